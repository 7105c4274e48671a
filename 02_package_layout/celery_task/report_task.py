"""A task that must not be lost: used by the failure drills (drill_*.py)."""

import time

import redis

from .celery import BACKEND_URL, app


@app.task(
    acks_late=True,               # acknowledge the message after the task ran, not before:
                                  # if the worker dies mid-task, the message is still in Redis
    reject_on_worker_lost=True,   # a pool process killed mid-task: put the message back at once
)
def build_report(number, seconds=1.0):
    """Pretend to build report `number`. Counts every execution, to show redeliveries."""
    runs = redis.Redis.from_url(BACKEND_URL).hincrby("drill:runs", str(number), 1)
    time.sleep(seconds)
    return {"report": number, "run": runs}
