"""A task that has expired before a worker gets to it is dropped (REVOKED), never run.

    python expires.py

It keeps every worker process busy for 3 s, then sends two SMS: one that is worthless
after 1 s (expires=1) and one that may wait 10 s (expires=10).
"""

import sys
import time

from celery_task.busy_task import busy
from celery_task.celery import app
from celery_task.run_records import runs_of
from celery_task.user_task import send_sms
from redis_check import require_redis

BUSY_SECONDS = 3

require_redis(app)

# [1] How many tasks can the worker run at once? (prefork: one per CPU by default)
stats = app.control.inspect(timeout=1).stats() or {}
if not stats:
    sys.exit("[!] no worker answered. Is one running in this folder "
             "(celery -A celery_task worker -l info), against the same REDIS_URL?")
slots = sum(s["pool"]["max-concurrency"] for s in stats.values())
print(f"[1] asked the worker{'s' if len(stats) > 1 else ''}: {slots} task(s) can run at once "
      "(one per pool process)")

# [2] Occupy every slot, so the next tasks must wait in line.
for _ in range(slots):
    busy.delay(BUSY_SECONDS)
print(f"[2] sent {slots} x busy({BUSY_SECONDS}): every worker process is busy for {BUSY_SECONDS} s")
time.sleep(0.3)  # let the worker start them (so the SMS really queue up behind them)

started = time.monotonic()
stale = send_sms.apply_async(args=("13800000000", "5202"), expires=1)
fresh = send_sms.apply_async(args=("13800000000", "5203"), expires=10)
print(f"[3] sent send_sms(..., '5202') with expires=1  -> id {stale.id}")
print(f"[4] sent send_sms(..., '5203') with expires=10 -> id {fresh.id}")

limit = BUSY_SECONDS + 15
while not (stale.ready() and fresh.ready()):
    if time.monotonic() - started > limit:
        sys.exit(f"[!] still not finished after {limit} s: is the worker still running?")
    time.sleep(0.05)
took = time.monotonic() - started
print(f"[5] the worker got to them after {took:.1f} s:")
for label, result in (("expires=1 ", stale), ("expires=10", fresh)):
    runs = runs_of(result.id)
    print(f"    {label} -> {result.state:<8} ran {len(runs)} time{'s' if len(runs) != 1 else ''}")
print("    the expired one was dropped unrun (the worker logged 'Discarding revoked task')")
