from .celery import app
from .run_records import record_run


@app.task(bind=True)
def add(self, a, b):
    record_run(self)
    return a + b
