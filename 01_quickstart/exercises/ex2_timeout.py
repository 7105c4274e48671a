"""Exercise 2: wait for a result, but never for ever.

Goal: `result_or_none(task_id, seconds)` returns the task's result when it is ready within
`seconds`, and None when it is not (the task is slow, or no worker runs, or the id is wrong),
after about `seconds` -- never later.

AsyncResult.get() with no timeout waits for ever: for an id nobody will ever answer, that
is a hung program. Look at get()'s `timeout` argument and at celery.exceptions.TimeoutError.
"""

from celery.result import AsyncResult

from celery_task import app


def result_or_none(task_id, seconds):
    # TODO: give up after `seconds` and return None instead of waiting for ever
    return AsyncResult(task_id, app=app).get()
