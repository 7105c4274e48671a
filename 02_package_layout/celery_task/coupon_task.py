"""A task module that is NOT listed in `include` (celery.py): the worker never imports it."""

from .celery import app


@app.task
def issue_coupon(user_id):
    return f"coupon for user {user_id}"
