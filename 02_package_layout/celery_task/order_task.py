import time

from .celery import app


@app.task
def make_order(user_id, course_id):
    """Pretend to create an order (1 s of work) and return it."""
    time.sleep(1)
    return {"order": f"ORD-{user_id}-{course_id}", "user_id": user_id, "course_id": course_id}
