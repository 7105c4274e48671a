"""Run records: proof of when, and how many times, a task really ran.

A task calls record_run(self) first thing; it appends {started, eta, worker, redelivered} to
a Redis list named after the task id, in the result backend's database (6). The scripts read
it back with runs_of(task_id) to print how late a delayed task started and how often it ran.
"""

import json
import time

from .celery import app

KEY = "runs:{}"  # one Redis list per task id


def record_run(task):
    request = task.request
    entry = {
        "started": time.time(),                      # when this run began (epoch seconds)
        "eta": request.eta,                          # the due time the message carried, or None
        "worker": request.hostname,
        "redelivered": bool((request.delivery_info or {}).get("redelivered")),
    }
    key = KEY.format(request.id)
    task.app.backend.client.pipeline().rpush(key, json.dumps(entry)).expire(key, 24 * 3600).execute()


def runs_of(task_id):
    """Every recorded run of a task, oldest first (an empty list: it never ran)."""
    raw = app.backend.client.lrange(KEY.format(task_id), 0, -1)
    return [json.loads(item) for item in raw]
