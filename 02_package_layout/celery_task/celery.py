"""The app of the package. Its name, celery.py, is what lets `celery -A celery_task` find it:
given a package, Celery looks for `celery_task.app`, then for an `app` inside the
submodule `celery_task.celery`."""

import os
import re
import sys

from celery import Celery  # the installed library (this file does not shadow it: Python 3
                           # imports are absolute, so `celery` here is never this module)
from kombu.utils.url import maybe_sanitize_url

from .outage import HandBackParkedTasks  # a consumer step, see the end of this file
from .redis_lost import exit_when_redis_goes_away

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
if not re.fullmatch(r"rediss?://([^@/]*@)?[^:/@]+(:\d+)?", REDIS_URL):  # [:password@]host[:port]
    sys.exit("[!] REDIS_URL is malformed: expected redis://[:password@]host[:port] "
             "(no database number: each chapter adds its own), e.g. redis://127.0.0.1:6379")
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
        "celery_task.report_task",
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
    broker_connection_timeout=2,     # `celery inspect` with Redis down: its error in 3 s, not 7
    result_backend_always_retry=True,  # a worker finishing a task while Redis restarts
                                       # keeps trying to store the result instead of failing
    # How long a message taken by a worker may stay unacknowledged before it is handed out
    # again, and how often workers look for such messages. Defaults: 1 hour, and a look
    # every 100 s or so. The drills set DRILL_VISIBILITY_TIMEOUT to a few seconds so a killed
    # worker's tasks come back quickly (chapter 03 shows the price of a short timeout:
    # long ETA tasks are delivered twice).
    broker_transport_options={
        "visibility_timeout": int(os.environ.get("DRILL_VISIBILITY_TIMEOUT", 3600)),
        **({"unacked_restore_interval": 1, "unacked_restore_throttle": 1}
           if "DRILL_VISIBILITY_TIMEOUT" in os.environ else {}),
    },
)

# After a Redis outage, the worker hands back the tasks it had taken but not started
# (kombu parks them in the `unacked` hash for the visibility timeout): see outage.py.
app.steps["consumer"].add(HandBackParkedTasks)


# --- conveniences for the scripts next to this package ---------------------------------
def require_redis():
    """One clear line and exit code 1 when Redis can't be used (instead of a traceback)."""
    where = maybe_sanitize_url(BROKER_URL)  # never print a password (redis://:**@host)
    exit_when_redis_goes_away(where, app)  # and one line, too, if Redis goes away later
    try:
        app.backend.client.ping()
    except Exception:
        sys.exit(f"[!] Redis is not answering at {where}. Start it with `make redis` "
                 "(or `docker compose up -d --wait`), then run this again.")


def save_last_id(task_id):
    with open(".last_task_id", "w") as f:
        f.write(task_id + "\n")


def load_last_id():
    try:
        with open(".last_task_id") as f:
            return f.read().strip()
    except FileNotFoundError:
        sys.exit("[!] no task id given and no .last_task_id here yet: run `python submit.py` first")
