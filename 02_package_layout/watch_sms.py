"""Watch send_sms fail at the (fake) SMS gateway, get retried with back-off, and succeed.

    python watch_sms.py

How many calls the gateway refuses is the worker's setting (SMS_GATEWAY_FAILURES in the
worker's environment, 2 by default): this script counts the retries it sees.
"""

import random
import time

from celery_task.celery import app
from celery_task.user_task import send_sms
from redis_check import require_redis

require_redis(app)
result = send_sms.delay("13800138000", f"{random.randint(0, 9999):04d}")
print(f"[1] sent send_sms -> id {result.id}")
print("[2] the gateway refuses the first calls of each message; autoretry_for retries "
      "after 1 s, 2 s, 4 s ...")
started, last, retries = time.monotonic(), None, 0
while True:
    if time.monotonic() - started > 60:
        raise SystemExit("[!] send_sms did not finish within 60 s: is the worker running?")
    meta = result.backend.get_task_meta(result.id)  # state and its detail, read together
    state = meta["status"]
    detail = f"  ({meta['result']})" if state == "RETRY" else ""  # why it is retried
    # PENDING and STARTED last a few milliseconds here (the gateway answers at once), so a
    # poll sees them one run and misses them the next: show what lasts, each RETRY and the end.
    if (state, detail) != last and state not in ("PENDING", "STARTED"):
        last = (state, detail)
        retries += state == "RETRY"
        print(f"    {time.monotonic() - started:5.2f} s  {state}{detail}")
    if state in ("SUCCESS", "FAILURE"):
        break
    time.sleep(0.05)
value = result.get(timeout=5, propagate=False)  # a FAILURE's exception is returned, not raised
outcome = "result" if result.successful() else "FAILURE (max_retries=5 reached)"
print(f"[3] {outcome} after {retries} retries: {value!r}")
