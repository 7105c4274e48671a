"""Chapter 07: workflows. Small tasks, combined with Celery's canvas into bigger jobs.

Start a worker from this folder:   celery -A celery_task worker -l info -P threads -c 10
(ten threads: the tasks here mostly wait, and a group needs free hands to run side by side)
"""

import os
import time
from collections import Counter

from celery import Celery

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")
# One database for the queue and the results: the queue is a list named "celery", results
# are keys named celery-task-meta-<id>, group and chord keys celery-taskset-meta-<id>...
app = Celery("celery_task", broker=f"{REDIS_URL}/15", backend=f"{REDIS_URL}/15")
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_track_started=True,
    result_expires=3600,             # every result (and chord counter) is deleted after 1 h
    broker_connection_retry_on_startup=True,
    redis_socket_connect_timeout=3,
)

PAGES = {  # what fetch() "downloads": no network in this chapter
    "celery": "a task queue runs work in the background so the web page does not wait "
              "for the work and the work does not wait for the page",
    "canvas": "a chain runs tasks one after another a group runs them side by side "
              "and a chord runs a group then one task with all of their results",
}


@app.task
def add(a, b):
    return a + b


@app.task
def double(n):
    return 2 * n


# --- a chain: fetch -> parse -> store, each step receives the result of the one before ---
@app.task
def fetch(page):
    time.sleep(0.2)  # pretend to download
    if page not in PAGES:
        raise LookupError(f"no page named {page!r}")
    return PAGES[page]


@app.task
def parse(text):
    return dict(Counter(text.split()).most_common(3))


@app.task
def store(counts):
    time.sleep(0.1)  # pretend to write to a database
    return f"stored the top {len(counts)} words: {counts}"


@app.task
def report_failure(request, exc, traceback):
    """An errback (link_error). With these three parameters Celery calls it right in the
    worker that saw the failure, with the failed task's request and exception."""
    message = f"{request.task} [{request.id}] raised {exc!r}"
    app.backend.client.rpush("errbacks", message)  # so the script can show what it saw
    return message


# --- a group and a chord -------------------------------------------------------------------
@app.task
def nap(number, seconds=0.5):
    time.sleep(seconds)  # stands for half a second of waiting on a network or a disk
    return number


@app.task
def partial_sum(numbers, seconds=0.0):
    time.sleep(seconds)
    return sum(numbers)  # TypeError when one of them is not a number


@app.task
def total(sums):
    return sum(sums)


# --- progress --------------------------------------------------------------------------------
@app.task(bind=True)
def long_job(self, steps=20, seconds=0.1):
    for done in range(1, steps + 1):
        time.sleep(seconds)
        # a custom state: the result backend keeps it until the next update or the result
        self.update_state(state="PROGRESS", meta={"done": done, "total": steps})
    return {"done": steps, "total": steps}


# --- the deadlock trap -------------------------------------------------------------------------
@app.task
def double_of_sum(a, b):
    """Wrong: waits inside a task for another task. Celery refuses with a RuntimeError."""
    return 2 * add.delay(a, b).get(timeout=5)


@app.task
def double_of_sum_anyway(a, b):
    """Worse: switches the guard off. When every pool slot waits like this, no slot is left
    to run the subtasks they wait for: the pool is deadlocked until the timeout."""
    time.sleep(0.5)  # some work first (long enough for every pool slot to be taken)
    return 2 * add.delay(a, b).get(timeout=3, disable_sync_subtasks=False)


# --- what eager mode hides -----------------------------------------------------------------
@app.task
def unique_words(text):
    return set(text.split())  # a set: fine in Python, not something JSON can carry
