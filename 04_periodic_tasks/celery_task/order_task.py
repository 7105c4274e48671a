from .celery import app
from .runs import record_run


@app.task(bind=True)
def make_order(self):
    """'Create' an order (it only records the run)."""
    record_run(self)
    return "order created"
