"""Hear about failures: one line per failed task, from a task_failure signal handler.

    python failures.py       (with the reports@ worker of the README running)

alerts.py, imported by every worker of this app (celery_task.py: imports=["alerts"]), writes
one log line per failure with the task's name and id, and keeps the last 100 in a Redis
list, `alerts`. This script makes two tasks fail and one succeed, then reads that list.
"""

import time

from celery_task import app, divide
from own_workers import needs_workers
from redis_check import require_redis

require_redis(app)
needs_workers(app, "reports")
client = app.backend.client
client.delete("alerts")

calls = [(1, 0), (6, 3), (2, 0)]
results = [divide.delay(*args) for args in calls]
for number, (args, result) in enumerate(zip(calls, results), 1):
    try:
        shown = f"returned {result.get(timeout=10)}"
    except ZeroDivisionError as exc:  # the task's own exception, re-raised here
        shown = f"raised ZeroDivisionError: {exc}"
    print(f"[{number}] divide{args} {result.id[:8]}-... {shown}")

deadline = time.monotonic() + 5
while client.llen("alerts") < 2 and time.monotonic() < deadline:
    time.sleep(0.1)  # the handler runs in the worker, just after the result is stored
alerts = [line.decode() for line in reversed(client.lrange("alerts", 0, -1))]
print(f"[4] the alerts list holds {len(alerts)} lines, one per failure:")
for line in alerts:
    print(f"    {line}")
