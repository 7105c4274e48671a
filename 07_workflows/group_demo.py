"""group: many tasks at once, run side by side by as many pool slots as the worker has.

    python group_demo.py

20 naps of 0.5 s each: one after another (send, wait, send the next), then as one group.
"""

import time

from celery import group

from celery_task import app, nap
from redis_check import require_redis

COUNT, SECONDS, TIMEOUT = 20, 0.5, 60

require_redis(app)
replies = app.control.inspect(timeout=2).stats() or {}
if not replies:
    raise SystemExit("[!] no worker answered: start one with "
                     "`celery -A celery_task worker -l info -P threads -c 10`")
slots = sum(reply["pool"]["max-concurrency"] for reply in replies.values())
print(f"[1] {len(replies)} worker(s) with {slots} pool slots in all")

started = time.monotonic()
for number in range(COUNT):
    nap.delay(number, SECONDS).get(timeout=TIMEOUT)
one_by_one = time.monotonic() - started
print(f"[2] one by one: {COUNT} x nap({SECONDS}) took {one_by_one:.2f} s")

started = time.monotonic()
result = group(nap.s(number, SECONDS) for number in range(COUNT)).apply_async()
seen = []
while not result.ready() and time.monotonic() - started < TIMEOUT:
    if not seen or result.completed_count() != seen[-1]:
        seen.append(result.completed_count())
    time.sleep(0.05)
values = result.get(timeout=TIMEOUT)
together = time.monotonic() - started
print(f"[3] as a group:  {COUNT} x nap({SECONDS}) took {together:.2f} s, "
      f"results in order: {values == list(range(COUNT))}")
print(f"    completed_count() while it ran: {' -> '.join(map(str, seen + [COUNT]))}")
print(f"[4] speed-up {one_by_one / together:.1f}x with {slots} slots "
      f"(at most {min(slots, COUNT)}x: {COUNT} tasks, {slots} at a time)")
