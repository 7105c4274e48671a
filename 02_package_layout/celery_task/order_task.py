import time

from .celery import app


@app.task
def make_order():
    """Pretend to create an order (1 s of work). No arguments: the lesson calls it as
    `order_task.make_order.apply_async()`, and its beat schedule (chapter 04) sends it bare."""
    time.sleep(1)
    return "order created"
