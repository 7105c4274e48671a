"""Exercise 2, a solution: an entry is a label, the task's registered name, a schedule (a
timedelta: "this often") and the arguments. Beat reads app.conf.beat_schedule when it
starts; the worker needs no entry, only the task (it imports this module with -I)."""

from datetime import timedelta

import redis

from celery_task.celery import BROKER_URL, app
from celery_task.run_records import record_run


@app.task(bind=True)
def report_queue(self, queue):
    """How many messages wait in a queue of the broker (the Redis list named after it)."""
    record_run(self)
    waiting = redis.Redis.from_url(BROKER_URL).llen(queue)
    return f"{waiting} message(s) waiting in {queue!r}"


app.conf.beat_schedule["report_queue_every_2_seconds"] = {
    "task": "exercises.ex2_beat_entry.report_queue",
    "schedule": timedelta(seconds=2),
    "args": ("celery",),
}
