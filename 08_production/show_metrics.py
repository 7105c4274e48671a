"""What a dashboard reads from Flower: its Prometheus metrics, at /metrics.

    python show_metrics.py        (the Procfile's workers and Flower running: terminals 2-4)

It asks the workers to send task events (Flower does it too, every 5 s: the Procfile's workers
have no -E), sends 10 send_sms and 2 divide(1, 0) (a failure, on the reports worker), waits
for them, then fetches http://127.0.0.1:<FLOWER_PORT, 5555>/metrics until Flower has counted
them, and prints the lines a Grafana dashboard's panels use. Flower builds these metrics from
the events it receives: a task it did not see (sent before it started) is not in them.
"""

import os
import re
import sys
import time
import urllib.error
import urllib.request

from celery_task import app, divide, send_sms
from redis_check import require_redis

URL = f"http://127.0.0.1:{os.environ.get('FLOWER_PORT', '5555')}/metrics"
WANTED = ("flower_events_total", "flower_task_runtime_seconds_count",
          "flower_task_runtime_seconds_sum", "flower_worker_online",
          "flower_worker_number_of_currently_executing_tasks",
          "flower_task_prefetch_time_seconds", "flower_worker_prefetched_tasks")
SMS, FAILING = 10, 2


def metrics():
    try:
        with urllib.request.urlopen(URL, timeout=5) as response:
            return response.read().decode()
    except (urllib.error.URLError, OSError):
        sys.exit(f"[!] Flower is not answering at {URL}: start it (Procfile: celery -A "
                 "celery_task flower --address=127.0.0.1), then run this again")


def value(text, name, **labels):
    """The sum of a metric's samples whose labels include these."""
    total = 0.0
    for found in re.finditer(rf"^{name}\{{([^}}]*)\}} (\S+)$", text, re.M):
        have = dict(re.findall(r'(\w+)="([^"]*)"', found[1]))
        if all(have.get(k) == v for k, v in labels.items()):
            total += float(found[2])
    return total


require_redis(app)
before = metrics()
answered = app.control.enable_events(reply=True, timeout=1) or []
workers = sorted(name for reply in answered for name in reply)
print(f"[1] Flower answers at {URL}; asked the workers to send task events: "
      f"{', '.join(workers) or 'none'} answered")
sms = [send_sms.delay(f"1380013800{n}") for n in range(SMS)]
failing = [divide.delay(1, 0) for _ in range(FAILING)]
succeeded = sum(1 for r in sms if r.get(timeout=20))
failed = sum(1 for r in failing if r.get(timeout=20, propagate=False) is not None)
print(f"[2] sent {SMS} x send_sms and {FAILING} x divide(1, 0): {succeeded} succeeded, "
      f"{failed} failed (ZeroDivisionError)")
deadline = time.monotonic() + 15
while True:  # Flower counts an event a moment after the worker sent it
    text = metrics()
    grew_ok = (value(text, "flower_events_total", task="celery_task.send_sms", type="task-succeeded")
               - value(before, "flower_events_total", task="celery_task.send_sms", type="task-succeeded"))
    grew_failed = (value(text, "flower_events_total", task="celery_task.divide", type="task-failed")
                   - value(before, "flower_events_total", task="celery_task.divide", type="task-failed"))
    # and each worker's heartbeat (every 2 s) since its last task has set its gauge of
    # executing tasks back to 0 (until then it shows what ran at the previous heartbeat)
    gauges = all(f'flower_worker_number_of_currently_executing_tasks{{worker="{w}"}} 0.0' in text
                 for w in workers)
    if (grew_ok >= SMS and grew_failed >= FAILING and gauges) or time.monotonic() > deadline:
        break
    time.sleep(0.5)
lines = [l for l in text.splitlines() if l.startswith(WANTED)
         and ('type="task-' in l or "flower_events_total" not in l)
         and ("celery_task.send_sms" in l or "celery_task.divide" in l or "{worker=" in l
              and "task=" not in l)]
print(f"[3] {URL}, the lines the dashboard's panels read:")
for line in sorted(lines):
    sample, number = line.rsplit(" ", 1)
    print(f"    {sample} {float(number):g}")  # 10.0 -> 10, 0.13317917999 -> 0.133179
print(f"[4] Flower counted {grew_ok:.0f} task-succeeded events of send_sms and {grew_failed:.0f} "
      "task-failed of divide since this script began")
sys.exit(0 if grew_ok >= SMS and grew_failed >= FAILING else 1)
