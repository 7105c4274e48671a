"""The deadlock trap: a task that waits for another task's result.

    python deadlock.py
"""

import time

from celery.exceptions import TimeoutError as ResultTimeout

from celery_task import add, app, double, double_of_sum, double_of_sum_anyway
from redis_check import require_redis

TIMEOUT = 30

require_redis(app)
result = double_of_sum.delay(2, 3)
try:
    result.get(timeout=TIMEOUT)
except RuntimeError as exc:
    print(f"[1] double_of_sum(2, 3) calls add.delay(2, 3).get() inside a task: "
          f"{result.state}, RuntimeError: {str(exc).splitlines()[0]}")

replies = app.control.inspect(timeout=2).stats() or {}
slots = sum(reply["pool"]["max-concurrency"] for reply in replies.values()) or 1
started = time.monotonic()
# all due at the same moment, 1 s from now: the worker holds them, then starts them together
waiting = [double_of_sum_anyway.apply_async((n, n), countdown=1) for n in range(slots)]
first = None  # (seconds, result) of the first to finish: until then, every slot was taken
while not all(result.ready() for result in waiting) and time.monotonic() - started < TIMEOUT:
    if first is None and (done := [result for result in waiting if result.ready()]):
        first = (time.monotonic() - started, done[0])
    time.sleep(0.02)
if first is None:
    raise SystemExit(f"[!] none of them finished within {TIMEOUT} s: is a worker running?")
seconds, result = first
how = (f"by giving up with {type(result.result).__name__}" if result.failed()
       else f"with {result.result}")
timed_out = sum(1 for result in waiting if isinstance(result.result, ResultTimeout))
print(f"[2] {slots} tasks (one per pool slot) each wait for a subtask, guard switched off: "
      f"the first finished after {seconds:.1f} s, {how}")
print(f"    until then every slot was waiting and no slot was free to run a subtask; "
      f"{timed_out} of {slots} gave up")
pipe = add.s(2, 3) | double.s()
print(f"[3] the fix, a chain: {pipe!r} -> {pipe.delay().get(timeout=TIMEOUT)}: "
      "no task waits, the worker passes the result on")
