"""Chapter 08: production. The app a deployment runs: queues per kind of work, limits, and
settings chosen on purpose. Start its two workers from this folder (README, terminals 2, 3):

    celery -A celery_task worker -l info -Q sms,api -n sms@%h -P threads -c 4
    celery -A celery_task worker -l info -Q reports,api -n reports@%h --autoscale=3,1 --max-memory-per-child=150000
"""

import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from celery import Celery
from celery.exceptions import SoftTimeLimitExceeded

from hand_back import HandBackParkedTasks

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")
# Database 0 for the queues and the results: every other one of a default Redis's 16 is taken
# by chapters 01-07 (the root README lists them).
app = Celery("celery_task", broker=f"{REDIS_URL}/0", backend=f"{REDIS_URL}/0")
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    result_expires=3600,
    broker_connection_retry_on_startup=True,
    redis_socket_connect_timeout=3,
    # Each kind of work its own queue: a worker started with -Q sms never sees a report.
    task_default_queue="default",
    task_routes={
        "celery_task.send_sms": {"queue": "sms"},
        "celery_task.build_report": {"queue": "reports"},
        "celery_task.resize_images": {"queue": "reports"},
        "celery_task.leak_memory": {"queue": "reports"},
        "celery_task.call_api": {"queue": "api"},
        "celery_task.divide": {"queue": "reports"},
    },  # anything else goes to "default", which no worker here reads: it would wait forever
    # Priorities on Redis: ten levels (0 is served first), one list per level and queue
    # ("sms" for 0, then "sms" + kombu's separator "\x06\x16" + 1 ... 9), and a worker reads
    # its queues in the order -Q names them. (Leave "sep" alone: README, pitfalls.)
    broker_transport_options={
        "priority_steps": list(range(10)),
        "queue_order_strategy": "priority",
    },
    # One line per failed task, with its name and id, from alerts.py (imported by the worker).
    imports=["alerts"],
    worker_log_format="%(asctime)s %(levelname)s %(processName)s %(message)s",
    worker_task_log_format="%(asctime)s %(levelname)s %(task_name)s[%(task_id)s] %(message)s",
)
# A worker restarted under the same name (-n reports@%h) by a supervisor hands back, at once,
# the tasks its killed predecessor had taken (chapter 02's drills built it: hand_back.py).
app.steps["consumer"].add(HandBackParkedTasks)
# What beat sends when a deployment runs it (deploy/: supervisord, systemd, Compose): a tiny
# heartbeat every 5 s to the deployed worker's own queue, `supervised` (expired after 30 s, so
# none piles up while no such worker runs).
app.conf.beat_schedule = {
    "heartbeat": {"task": "celery_task.work", "schedule": 5.0, "args": [0, "heartbeat"],
                  "options": {"queue": "supervised", "expires": 30}},
}


@app.task
def send_sms(phone):
    started = time.time()
    time.sleep(0.01)  # a fast call to an SMS gateway
    return {"phone": phone, "ran_at": started}


@app.task(acks_late=True, reject_on_worker_lost=True)  # must not be lost: see hand_back.py
def build_report(number, seconds=1.0):
    started = time.time()
    time.sleep(seconds)  # a slow query and a PDF
    return {"report": number, "ran_at": started}


@app.task(bind=True, rate_limit="10/m")  # at most 10 a minute... per worker
def call_api(self, number):
    return {"number": number, "worker": self.request.hostname, "ran_at": time.time()}


@app.task(soft_time_limit=1, time_limit=2)  # SoftTimeLimitExceeded after 1 s, killed at 2 s
def resize_images(count, seconds_each=0.3, cleanup_seconds=0.1):
    work = Path(tempfile.mkdtemp(prefix="resize-"))
    done = 0
    try:
        for done in range(count):
            (work / f"{done}.png").write_bytes(b"pretend image")
            time.sleep(seconds_each)
        shutil.rmtree(work)  # uploaded, say: the work folder goes
        return {"resized": count, "of": count, "folder": str(work)}
    except SoftTimeLimitExceeded:
        time.sleep(cleanup_seconds)  # cleaning up takes time too
        shutil.rmtree(work)
        return {"resized": done, "of": count, "folder": str(work), "stopped": "soft time limit"}


KEPT = []  # what leak_memory never lets go of: it lives as long as the pool process


@app.task
def leak_memory(megabytes):
    KEPT.append(bytearray(megabytes * 1024 * 1024))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # the peak resident size
    return {"pid": os.getpid(), "peak_kb": peak // 1024 if sys.platform == "darwin" else peak}


@app.task(bind=True)
def work(self, seconds, label=""):
    started = time.time()
    time.sleep(seconds)
    return {"label": label, "worker": self.request.hostname, "ran_at": started}


@app.task(bind=True, acks_late=True)  # the same, acknowledged after it ran
def work_acks_late(self, seconds, label=""):
    started = time.time()
    time.sleep(seconds)
    return {"label": label, "worker": self.request.hostname, "ran_at": started}


@app.task
def divide(a, b):
    return a / b  # divide(1, 0): the failure alerts.py reports
