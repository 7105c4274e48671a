"""The benchmark's Celery app: a task that waits, a task that computes, and no-ops.

The benchmarks start real workers on it, exactly like a learner would:
    celery -A bench.tasks worker -P threads -c 50      (run from the repository root)

It uses its own Redis databases (15 for the queue, 14 for results; bench/latency.py writes
to 13), so it never meets a chapter's tasks. The benchmarks empty databases 13-15 before
and after each run, and never touch any other.
"""

import os
import time

from celery import Celery

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
BROKER_URL = f"{REDIS_URL}/15"   # the queue
BACKEND_URL = f"{REDIS_URL}/14"  # the results

app = Celery("bench", broker=BROKER_URL, backend=BACKEND_URL)
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    result_expires=600,              # benchmark results are worth nothing after the run
    broker_connection_retry_on_startup=True,
)


@app.task
def wait(seconds):
    """I/O-bound: the task only waits (like a slow HTTP call or a database query)."""
    time.sleep(seconds)  # under -P eventlet / -P gevent this sleep is green: others run meanwhile
    return seconds


def arithmetic(loops):
    """Pure-Python arithmetic: it never waits, so it holds the GIL the whole time."""
    total = 0
    for i in range(loops):
        total += i * i % 7
    return total


@app.task
def crunch(loops):
    """CPU-bound: the same arithmetic inside a task (the benchmark calibrates loops to ~50 ms)."""
    return arithmetic(loops)


@app.task
def noop():
    """Does nothing: what is left of a round trip is Celery's and Redis' own cost."""
    return None


@app.task(ignore_result=True)
def noop_ignored():
    """Does nothing and stores no result (fire and forget)."""
    return None
