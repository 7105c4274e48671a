"""Chapter 01: the smallest useful Celery app.

Three parts work together (see the README for the picture):
  broker  - where sent tasks wait in a queue (Redis database 1 here)
  worker  - the process that takes tasks off the queue and runs them
  backend - where the worker writes each task's state and result (Redis database 2)

Start a worker from this folder:   celery -A celery_task worker -l info
"""

import os
import time

from celery import Celery

# REDIS_URL says where Redis runs; each chapter adds its own database numbers, so a task
# left queued in one chapter can never be picked up by another chapter's worker.
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
BROKER_URL = f"{REDIS_URL}/1"   # the queue: tasks go in here
BACKEND_URL = f"{REDIS_URL}/2"  # the results: the worker writes states and return values here

app = Celery("celery_task", broker=BROKER_URL, backend=BACKEND_URL)
app.conf.update(
    task_serializer="json",          # tasks travel as JSON: readable, and no pickle
    result_serializer="json",
    accept_content=["json"],         # refuse anything else (pickle can run code on load)
    task_track_started=True,         # report STARTED when a worker begins a task
    worker_send_task_events=True,    # task events from the start, for `celery events` and Flower
    result_expires=24 * 3600,        # results are kept for one day, then deleted
    broker_connection_retry_on_startup=True,  # a worker started before Redis waits for it
    redis_socket_connect_timeout=3,  # notice a Redis that is down within 3 s
    result_backend_always_retry=True,  # a task finishing while Redis is down stores its
                                       # result once Redis is back, instead of losing it
)


@app.task
def add(a, b):
    """The lesson's task: pretend to work for 2 seconds, then add."""
    time.sleep(2)
    return a + b


@app.task
def divide(a, b):
    """Fails for b == 0 (ZeroDivisionError): shows the FAILURE state and its traceback."""
    time.sleep(0.5)
    return a / b


@app.task(bind=True, max_retries=3)
def shaky_add(self, a, b):
    """Fails its first two tries and asks Celery to retry it 1 s later: shows RETRY."""
    time.sleep(0.5)
    if self.request.retries < 2:
        raise self.retry(countdown=1, exc=ConnectionError("pretend the network dropped"))
    return a + b
