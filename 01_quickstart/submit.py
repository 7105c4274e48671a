"""Send add(2, 3) to the worker the three ways Celery offers, then collect the results.

    python submit.py               send, then wait for the results (at most 20 s each)
    python submit.py --no-wait     only send (the tasks wait in Redis until a worker runs them)
    python submit.py --timeout 3   wait at most 3 s for each result
"""

import argparse
import time

from celery.exceptions import TimeoutError as ResultTimeout

from celery_task import add, app
from last_id import save_last_id
from redis_check import require_redis

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--no-wait", action="store_true", help="send the tasks and exit")
parser.add_argument("--timeout", type=float, default=20, help="seconds to wait for each result")
args = parser.parse_args()

# [1] A task is still a plain function: calling it runs it here, now, in this process.
started = time.monotonic()
value = add(2, 3)
print(f"[1] add(2, 3) called directly ran here, in this process: {value} "
      f"(took {time.monotonic() - started:.1f} s, no worker involved)")

require_redis(app)  # one clear line instead of a traceback if Redis is down

# [2]-[4] Sending: each call puts a message in the queue and returns at once with a receipt
# (an AsyncResult) whose .id names the task. A worker will run it, maybe on another machine.
sent = [
    ("add.apply_async(args=(2, 3))", add.apply_async(args=(2, 3))),
    ("add.apply_async(kwargs={'a': 2, 'b': 3})", add.apply_async(kwargs={"a": 2, "b": 3})),
    ("add.delay(2, 3)", add.delay(2, 3)),  # delay(*args) is a shortcut for apply_async(args)
]
for number, (how, result) in enumerate(sent, start=2):
    print(f"[{number}] sent {how:<40} -> id {result.id}")
save_last_id(sent[-1][1].id)
print("    each call returned at once: the id is a receipt, the work happens in the worker")
print("[5] saved the last id in .last_task_id, so `python check_result.py` can look it up")

if args.no_wait:
    print("[6] not waiting (--no-wait): start a worker, then run `python check_result.py`")
else:
    print(f"[6] waiting for the results (at most {args.timeout:g} s each; "
          ".get() without a timeout can wait forever)")
    for how, result in sent:
        try:
            print(f"    {how} -> {result.get(timeout=args.timeout)}  (state {result.state})")
        except ResultTimeout:
            raise SystemExit(
                f"[!] no result after {args.timeout:g} s. Is a worker running in this folder "
                "(celery -A celery_task worker -l info), against the same REDIS_URL?")
