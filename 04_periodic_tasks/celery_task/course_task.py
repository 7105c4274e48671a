from .celery import app
from .runs import record_run


@app.task(bind=True)
def add(self, a, b):
    record_run(self)
    return a + b
