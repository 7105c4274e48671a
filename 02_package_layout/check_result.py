"""Look up a task by id and explain its state.

    python check_result.py            the id that submit.py saved last
    python check_result.py TASK_ID    any id
"""

import sys

import redis
from celery.result import AsyncResult

from celery_task.celery import BROKER_URL, app
from last_id import load_last_id
from redis_check import require_redis


def still_queued(task_id):
    """Celery says PENDING for any id it has no record of, even one that was never sent.
    To tell "waiting" from "unknown", look for the task's message in the broker."""
    broker = redis.Redis.from_url(BROKER_URL)
    waiting = broker.lrange("celery", 0, -1)  # sent, not yet taken by a worker
    taken = broker.hvals("unacked")           # taken by a worker, not finished yet (or an ETA)
    return any(task_id.encode() in message for message in waiting + taken)


require_redis(app)
task_id = sys.argv[1] if len(sys.argv) > 1 else load_last_id()
source = "" if len(sys.argv) > 1 else " (read from .last_task_id)"
result = AsyncResult(task_id, app=app)
state = result.state  # one look-up in the result backend
print(f"[1] task {task_id}{source}")

if state == "PENDING":
    if still_queued(task_id):
        print("[2] PENDING: the task waits in the queue; no worker has started it yet.")
        print("    Is a worker running? celery -A celery_task worker -l info")
    else:
        print("[2] UNKNOWN: nothing was sent with this id (Celery alone would say PENDING),")
        print("    or its result has expired (results are kept one day). Check the id.")
        sys.exit(1)
elif state == "STARTED":
    print(f"[2] STARTED: a worker is running it now ({result.info})")
elif state == "RETRY":
    print(f"[2] RETRY: the last try failed with {result.info!r}; Celery will run it again")
elif state == "FAILURE":
    print(f"[2] FAILURE: the task raised {result.info!r}")  # info holds the exception
    print("    the traceback, as the worker saw it:")
    print("    " + result.traceback.strip().replace("\n", "\n    "))
elif state == "SUCCESS":
    print(f"[2] SUCCESS: the task returned {result.result!r}")
else:  # REVOKED, or a custom state
    print(f"[2] {state}: {result.info!r}")
