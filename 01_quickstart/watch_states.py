"""Watch tasks move through their states: PENDING, STARTED, RETRY, FAILURE, SUCCESS.

    python watch_states.py

Sends three tasks one after the other and prints every state change as it happens.
"""

import time

from celery import states

from celery_task import add, app, divide, shaky_add
from last_id import save_last_id
from redis_check import require_redis


def watch(number, label, result, timeout=30):
    """Poll the result backend every 50 ms and print each new state with its time."""
    print(f"[{number}] sent {label} -> id {result.id}")
    # Sent and not yet reported on by a worker: PENDING. An idle worker may report STARTED
    # within milliseconds, before the first look below, so the timeline starts here.
    started, last = time.monotonic(), "PENDING"
    print(f"    {0:5.2f} s  {last}")
    while time.monotonic() - started < timeout:
        state = result.state  # one look-up: asking ready() as well could see a later state
        if state != last:
            print(f"    {time.monotonic() - started:5.2f} s  {state}")
            last = state
        if state in states.READY_STATES:  # SUCCESS, FAILURE or REVOKED: it will not change
            outcome = result.result  # the return value, or the exception for FAILURE
            print(f"    final: {state}, {'returned' if result.successful() else 'raised'} {outcome!r}")
            return
        time.sleep(0.05)
    raise SystemExit(f"[!] {label} did not finish within {timeout} s: is a worker running?")


require_redis(app)
watch(1, "add(2, 3)", add.delay(2, 3))
watch(2, "shaky_add(2, 3) (fails twice, then works)", shaky_add.delay(2, 3))
failed = divide.delay(1, 0)
watch(3, "divide(1, 0)", failed)
save_last_id(failed.id)
print("[4] saved the failed task's id: `python check_result.py` shows its traceback")
