"""The benchmark's Celery app: a task that waits, a task that computes, and no-ops.

The benchmarks start real workers on it, as a learner would start a chapter's worker:
    celery -A bench.tasks worker -P threads -c 50      (run from the repository root)

DATABASES below is the one place bench's Redis database numbers are declared: every Redis
URL bench builds (the queue, the results, the scratch database of the Redis-only loops,
the Django cache of bench/cache.py) comes from it. The numbers are disjoint from the
chapters' (1-14), and bench runs only on a private redis-server it starts for the run,
with enough databases for them (bench/harness.py), never on a learner's Redis.
"""

import os
import time

from celery import Celery

DATABASES = {"broker": 16, "backend": 17, "scratch": 18, "cache": 19}

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")


def url(role: str, redis_url: str = REDIS_URL) -> str:
    """redis_url with bench's database for role (broker, backend, scratch, cache)."""
    return f"{redis_url.rstrip('/')}/{DATABASES[role]}"


BROKER_URL = url("broker")    # the queue
BACKEND_URL = url("backend")  # the results

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
