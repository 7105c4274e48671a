"""Chapter 03: tasks that run later (countdown, eta), expire, or are called off (revoke).

Start a worker from this folder:   celery -A celery_task worker -l info

Every run of send_sms writes down when it started, in Redis (see record_run), so the
scripts can print how late a delayed task ran and count how many times it ran.
"""

import json
import os
import re
import sys
import time
from datetime import datetime, timezone

from celery import Celery
from kombu.utils.url import maybe_sanitize_url

from redis_lost import exit_when_redis_goes_away

# REDIS_URL says where Redis runs; each chapter adds its own database numbers.
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
if not re.fullmatch(r"rediss?://([^@/]*@)?[^:/@]+(:\d+)?", REDIS_URL):  # [:password@]host[:port]
    sys.exit("[!] REDIS_URL is malformed: expected redis://[:password@]host[:port] "
             "(no database number: each chapter adds its own), e.g. redis://127.0.0.1:6379")
BROKER_URL = f"{REDIS_URL}/5"   # the queue
BACKEND_URL = f"{REDIS_URL}/6"  # states, return values, and the run records of this chapter

# The Redis broker puts a message back in the queue when the worker that took it has not
# acknowledged it within `visibility_timeout` seconds. A worker acknowledges a delayed task
# only after running it, so this must be longer than the longest countdown/eta you will
# ever use, or the task is delivered again (and runs again). Celery's default is 1 hour;
# 12 hours here. Celery's docs ask for the same value in all three places below.
VISIBILITY_TIMEOUT = 12 * 3600

COMMON_SETTINGS = dict(
    task_serializer="json",          # tasks travel as JSON: readable, and no pickle
    result_serializer="json",
    accept_content=["json"],
    result_expires=24 * 3600,        # results are kept for one day
    enable_utc=True,                 # the default (chapter 04 explains this setting)
    broker_connection_retry_on_startup=True,  # a worker started before Redis waits for it
    redis_socket_connect_timeout=3,  # notice a Redis that is down within 3 s
    broker_connection_timeout=2,     # `celery inspect` with Redis down: its error in 3 s, not 7
)

app = Celery("celery_task", broker=BROKER_URL, backend=BACKEND_URL)
app.conf.update(
    COMMON_SETTINGS,
    broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT},
    result_backend_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT},
    visibility_timeout=VISIBILITY_TIMEOUT,
)


def require_redis():
    """Scripts call this first: one clear line and exit code 1 when Redis is not answering."""
    exit_when_redis_goes_away(maybe_sanitize_url(BROKER_URL), app)  # also if it goes away later
    try:
        app.backend.client.ping()
    except Exception:  # redis-py raises ConnectionError, TimeoutError, AuthenticationError...
        where = maybe_sanitize_url(BROKER_URL)  # never print a password
        sys.exit(f"[!] Redis is not answering at {where}. Start it with `make redis` "
                 "(or `docker compose up -d --wait`), then run this again.")


# --- run records: proof of when (and how many times) a task really ran -------------------
RUNS_KEY = "runs:{}"  # a Redis list per task id, in the result backend's database


def record_run(task):
    """Called first thing by a task: append {started, eta, worker, redelivered} to its list."""
    request = task.request
    entry = {
        "started": time.time(),                      # when this run began (epoch seconds)
        "eta": request.eta,                          # the due time the message carried, or None
        "worker": request.hostname,
        "redelivered": bool((request.delivery_info or {}).get("redelivered")),
    }
    key = RUNS_KEY.format(request.id)
    client = task.app.backend.client
    client.pipeline().rpush(key, json.dumps(entry)).expire(key, 24 * 3600).execute()


def runs_of(task_id):
    """Every recorded run of a task, oldest first (an empty list: it never ran)."""
    raw = app.backend.client.lrange(RUNS_KEY.format(task_id), 0, -1)
    return [json.loads(item) for item in raw]


# --- the tasks ------------------------------------------------------------------------------
@app.task(bind=True)
def send_sms(self, mobile, code):
    """The lesson's task: 'send' a verification code (here it only records the run)."""
    record_run(self)
    return f"code {code} sent to {mobile}"


@app.task
def busy(seconds):
    """Keep one worker process busy, so the next task has to wait its turn."""
    time.sleep(seconds)
    return seconds


def clock(moment):
    """A moment (aware datetime or epoch seconds) as the learner's clock shows it, to the ms."""
    if isinstance(moment, (int, float)):
        moment = datetime.fromtimestamp(moment, timezone.utc)
    return moment.astimezone().strftime("%H:%M:%S.%f")[:-3]


# --- a small convenience for the scripts: remember the last task id we sent -------------
LAST_ID_FILE = ".last_task_id"


def save_last_id(task_id):
    with open(LAST_ID_FILE, "w") as f:
        f.write(task_id + "\n")


def load_last_id():
    try:
        with open(LAST_ID_FILE) as f:
            return f.read().strip()
    except FileNotFoundError:
        sys.exit("[!] no task id given and no .last_task_id here yet: "
                 "run `python submit.py --seconds 60 --no-wait` first")
