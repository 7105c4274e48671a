"""Exercise 3, a solution: get(propagate=False) returns the exception instead of raising it;
state says which of the two it is."""

from celery.result import AsyncResult

from celery_task import app


def outcome(task_id):
    result = AsyncResult(task_id, app=app)
    value = result.get(timeout=10, propagate=False)
    if result.state == "FAILURE":
        return ("FAILURE", type(value).__name__)
    return (result.state, value)
