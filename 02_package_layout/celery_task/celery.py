"""The app of the package. Its name, celery.py, is what lets `celery -A celery_task` find it:
given a package, Celery looks for `celery_task.app`, then for an `app` inside the
submodule `celery_task.celery`."""

import os

from celery import Celery  # the installed library (this file does not shadow it: Python 3
                           # imports are absolute, so `celery` here is never this module)

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
        "celery_task.user_task",
        "celery_task.order_task",
        "celery_task.course_task",
        # "celery_task.coupon_task" is left out on purpose: see send_unregistered.py
    ],
)
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_track_started=True,
    result_expires=24 * 3600,
    broker_connection_retry_on_startup=True,
    redis_socket_connect_timeout=3,
)


# --- conveniences for the scripts next to this package ---------------------------------
def require_redis():
    """One clear line and exit code 1 when Redis is not answering (instead of a traceback)."""
    import sys

    from kombu.utils.url import maybe_sanitize_url

    try:
        app.backend.client.ping()
    except Exception:
        sys.exit(f"[!] Redis is not answering at {maybe_sanitize_url(BROKER_URL)}. Start it with "
                 "`make redis` (or `docker compose up -d --wait`), then run this again.")


def save_last_id(task_id):
    with open(".last_task_id", "w") as f:
        f.write(task_id + "\n")


def load_last_id():
    import sys

    try:
        with open(".last_task_id") as f:
            return f.read().strip()
    except FileNotFoundError:
        sys.exit("[!] no task id given and no .last_task_id here yet: run `python submit.py` first")
