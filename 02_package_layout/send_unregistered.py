"""The classic "Received unregistered task" mistake, live.

    python send_unregistered.py

This script imports celery_task.coupon_task and sends issue_coupon. Sending works: the
sender knows the task. But the worker never imported that module (it is not in `include`
in celery_task/celery.py), so it logs "Received unregistered task" and drops the message.
"""

from celery.exceptions import NotRegistered
from celery.exceptions import TimeoutError as ResultTimeout

from celery_task.celery import app
from celery_task.coupon_task import issue_coupon
from redis_check import require_redis

require_redis(app)
result = issue_coupon.delay(7)
print(f"[1] sent {issue_coupon.name} -> id {result.id}")
try:
    print(f"[2] the worker ran it: {result.get(timeout=10)!r}. coupon_task is registered now.")
    raise SystemExit(0)
except NotRegistered as exc:
    # The worker also records the refusal as a FAILURE, so get() raises NotRegistered. Celery
    # has done so since 4.0 (3.1 only logged it, and the task stayed PENDING forever).
    print(f"[2] the task ended {result.state}: {exc!r}")
except ResultTimeout:
    raise SystemExit("[!] no answer after 10 s: is the worker running?")
print("    In the worker's terminal: Received unregistered task of type "
      f"'{issue_coupon.name}'. The message has been ignored and discarded.")
print("[3] the fix: add \"celery_task.coupon_task\" to include=[...] in celery_task/celery.py,")
print("    then restart the worker (it imports its task modules only at start-up)")
