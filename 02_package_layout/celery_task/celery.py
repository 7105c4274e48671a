"""The app of the package. Its name, celery.py, is what lets `celery -A celery_task` find it:
given a package, Celery looks for `celery_task.app`, then for an app inside the submodule
`celery_task.celery` (named `app`, or any other name: see the README)."""

import os

from celery import Celery  # the installed library (this file does not shadow it: Python 3
                           # imports are absolute, so `celery` here is never this module)

# REDIS_URL says where Redis runs; each chapter adds its own database numbers, so a task
# left queued in one chapter can never be picked up by another chapter's worker.
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
BROKER_URL = f"{REDIS_URL}/3"   # chapter 02's queue
BACKEND_URL = f"{REDIS_URL}/4"  # chapter 02's results

app = Celery(
    "celery_task",
    broker=BROKER_URL,
    backend=BACKEND_URL,
    # The modules the worker imports at start-up. A task in a module missing from this list
    # is unknown to the worker: "Received unregistered task", and the message is dropped.
    include=[
        "celery_task.course_task",
        "celery_task.order_task",
        "celery_task.user_task",
        # "celery_task.coupon_task" is left out on purpose: see send_unregistered.py
    ],
)
app.conf.update(
    task_serializer="json",          # tasks travel as JSON: readable, and no pickle
    result_serializer="json",
    accept_content=["json"],         # refuse anything else (pickle can run code on load)
    task_track_started=True,         # report STARTED when a worker begins a task
    broker_connection_retry_on_startup=True,  # a worker started before Redis waits for it
    redis_socket_connect_timeout=3,  # notice a Redis that is down within 3 s
    broker_connection_timeout=2,     # `celery inspect` with Redis down: its error in 3 s, not 7
    result_backend_always_retry=True,  # a task finishing while Redis restarts keeps trying
                                       # to store its result instead of losing it
)
