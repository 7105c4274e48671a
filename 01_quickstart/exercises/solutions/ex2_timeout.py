"""Exercise 2, a solution: get(timeout=...) raises celery.exceptions.TimeoutError when the
result is not ready in time (a PENDING id looks the same whether it is slow or unknown)."""

from celery.exceptions import TimeoutError as ResultTimeout
from celery.result import AsyncResult

from celery_task import app


def result_or_none(task_id, seconds):
    try:
        return AsyncResult(task_id, app=app).get(timeout=seconds)
    except ResultTimeout:
        return None
