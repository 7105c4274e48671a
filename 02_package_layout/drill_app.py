"""The failure drills' own app: the same Redis databases as the lesson's app (3 and 4), but
its own queue and settings a production app would not have. The drills start its worker:

    celery -A drill_app worker ...           visibility timeout 5 s: a killed worker's tasks
                                             come back within seconds
    celery -A drill_app:patient worker ...   visibility timeout 1 hour, Celery's default:
                                             the outage drill (tasks must come back through
                                             outage.py, not the timeout), warm and cold shutdown
    celery -A drill_app:soft worker ...      the same, with a soft shutdown of 3 s

What makes it the drills' app, apart from the lesson's:
- its own queue `drills` (task_default_queue): a lesson worker running in another terminal
  (`celery -A celery_task worker`) never takes a drill task, nor a drill worker a lesson task;
- its own `unacked` hash (drills:unacked ...): kombu hands a message back to the queue once it
  is older than the visibility timeout, and the drills' 5 s must never hand back a message
  that a lesson worker holds (chapter 03 shows the duplicates that causes);
- its own control and event exchanges: `celery -A celery_task inspect ...` and Flower see
  only the lesson's workers;
- a visibility timeout of 5 s, looked at every second (kombu's default: every 100 s or so);
- the consumer step of outage.py, which hands back the messages a worker had taken when its
  connection to Redis dropped (or it crashed) as soon as it is connected again;
- build_report, a task that must not be lost: acks_late and reject_on_worker_lost.
"""

import os
import signal
import time

import redis
from celery import Celery
from redis.backoff import ConstantBackoff
from redis.retry import Retry

from outage import HandBackParkedTasks

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
BROKER_URL = f"{REDIS_URL}/3"   # chapter 02's databases, as the lesson's app
BACKEND_URL = f"{REDIS_URL}/4"
QUEUE = "drills"
UNACKED = f"{QUEUE}:unacked"    # the messages drill workers took and have not acknowledged
VISIBILITY_TIMEOUT = 5          # seconds; Celery's default is 3600


def make_app(name, visibility_timeout, **settings):
    app = Celery(name, broker=BROKER_URL, backend=BACKEND_URL)
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_track_started=True,
        broker_connection_retry_on_startup=True,
        redis_socket_connect_timeout=3,
        result_backend_always_retry=True,  # a task finishing while Redis restarts keeps
                                           # trying to store its result
        task_default_queue=QUEUE,
        control_exchange=QUEUE,
        event_exchange=f"{QUEUE}.ev",
        broker_transport_options={
            "visibility_timeout": visibility_timeout,
            "unacked_key": UNACKED,
            "unacked_index_key": f"{UNACKED}_index",
            "unacked_mutex_key": f"{UNACKED}_mutex",
            "unacked_restore_interval": 1,  # look for overdue messages every second...
            "unacked_restore_throttle": 1,  # ...and really scan each time
        },
        **settings,
    )
    app.steps["consumer"].add(HandBackParkedTasks)
    return app


def count_run(key):
    """Add one to drill:runs[key]. Like the result store (result_backend_always_retry), it
    keeps trying through a Redis outage (up to a minute): a task that starts while Redis is
    down must not fail on its own counter (acks_late would then acknowledge it, and the
    drill would count it as lost)."""
    client = redis.Redis.from_url(BACKEND_URL, retry=Retry(ConstantBackoff(0.5), 120))
    return client.hincrby("drill:runs", key, 1)


app = make_app("drill_app", VISIBILITY_TIMEOUT)
patient = make_app("drill_app_patient", 3600)
# Soft shutdown (Celery 5.5+): on a cold shutdown, give running tasks up to 3 s first.
soft = make_app("drill_app_soft", 3600, worker_soft_shutdown_timeout=3)


@app.task(
    acks_late=True,               # acknowledge the message after the task ran, not before:
                                  # if the worker dies mid-task, the message is still in Redis
    reject_on_worker_lost=True,   # a pool process killed mid-task: put the message back at once
)
def build_report(number, seconds=1.0):
    """Pretend to build report `number`. Counts every execution, to show redeliveries."""
    runs = count_run(str(number))
    time.sleep(seconds)
    return {"report": number, "run": runs}


@app.task(acks_late=True, reject_on_worker_lost=True)
def crash(number):
    """Kills the pool process that runs it, every time (think: a task that always runs out of
    memory). reject_on_worker_lost puts its message back each time: it loops forever."""
    runs = count_run(f"crash-{number}")
    os.kill(os.getpid(), signal.SIGKILL)
    return runs


@app.task(acks_late=True, reject_on_worker_lost=True,
          retry_on_worker_lost=True,  # Celery 5.7: a lost worker counts as a retry...
          max_retries=3,              # ...at most 3 of them, then FAILURE
          default_retry_delay=1)      # seconds between two tries
def crash_guarded(number):
    """The same task with the guard: it runs at most 1 + max_retries times."""
    runs = count_run(f"crash-{number}")
    os.kill(os.getpid(), signal.SIGKILL)
    return runs
