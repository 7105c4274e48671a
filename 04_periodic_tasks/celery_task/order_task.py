from .celery import app
from .run_records import record_run


@app.task(bind=True)
def make_order(self):
    """'Create' an order (it only records the run)."""
    record_run(self)
    return "order created"
