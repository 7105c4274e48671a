"""Progress you can watch: a task reports PROGRESS with update_state, a script draws it.

    python progress.py
"""

import time

from celery import group
from rich.progress import Progress

from celery_task import app, long_job, nap
from redis_check import require_redis

TIMEOUT = 30

require_redis(app)
result = long_job.delay(20, 0.1)
seen = []  # every PROGRESS report this script saw, in order
with Progress(transient=False) as bar:
    line = bar.add_task("long_job", total=20)
    deadline = time.monotonic() + TIMEOUT
    while not result.ready() and time.monotonic() < deadline:
        if result.state == "PROGRESS" and (done := result.info["done"]) not in seen:
            seen.append(done)
            bar.update(line, completed=done)
        time.sleep(0.03)
    bar.update(line, completed=20)
print(f"[1] long_job: {result.state} {result.get(timeout=TIMEOUT)} after {len(seen)} "
      f"PROGRESS reports seen, from done={seen[0] if seen else '-'} to {seen[-1] if seen else '-'}")

jobs = group(nap.s(number, 0.1 * (number % 5 + 1)) for number in range(10)).apply_async()
counts = []
with Progress(transient=False) as bar:
    line = bar.add_task("group of 10", total=10)
    deadline = time.monotonic() + TIMEOUT
    while not jobs.ready() and time.monotonic() < deadline:
        if (count := jobs.completed_count()) not in counts:
            counts.append(count)
            bar.update(line, completed=count)
        time.sleep(0.03)
    bar.update(line, completed=10)
counts += [10] if counts[-1:] != [10] else []
print(f"[2] the group: completed_count() went {' -> '.join(map(str, counts))} of 10")
