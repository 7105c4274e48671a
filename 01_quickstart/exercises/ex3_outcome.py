"""Exercise 3: report a failure instead of crashing on it.

Goal: `outcome(task_id)` waits (at most 10 s) for the task and returns
    ("SUCCESS", <the result>)             when it succeeded, e.g. ("SUCCESS", 5) for add(2, 3)
    ("FAILURE", "<exception class name>")  when it raised, e.g. ("FAILURE", "ZeroDivisionError")
and never raises the task's exception itself.

get() re-raises a failed task's exception in the caller by default. Look at its `propagate`
argument, and at what AsyncResult.state and AsyncResult.result hold after a failure.
"""

from celery.result import AsyncResult

from celery_task import app


def outcome(task_id):
    result = AsyncResult(task_id, app=app)
    # TODO: a failed task must give ("FAILURE", "ZeroDivisionError"), not an exception here
    return ("SUCCESS", result.get(timeout=10))
