"""Chapter 09: scale out. One app, workers on several hosts, the broker where the deployment
says: Redis on another host, RabbitMQ, or Redis behind Sentinel.

The scripts of this chapter start every server and worker they need, on hosts of their own
(hosts.py), and point this app at them through the environment, as a deployment would:

    BROKER_URL           redis://:password@198.18.0.1:6379/0, amqp://..., sentinel://...
    RESULT_BACKEND       redis://:password@198.18.0.1:6379/1, sentinel://...
    SENTINEL_MASTER      the name the Sentinels know the primary by (with sentinel:// URLs)
    VISIBILITY_TIMEOUT   seconds before Redis hands an unacknowledged task to another worker
"""

import os
import time

from celery import Celery

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")
MASTER = os.environ.get("SENTINEL_MASTER", "")  # with sentinel:// URLs: the primary's name
app = Celery("celery_task",
             broker=os.environ.get("BROKER_URL") or f"{REDIS_URL}/0",
             backend=os.environ.get("RESULT_BACKEND") or f"{REDIS_URL}/1")
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    result_expires=3600,
    broker_connection_retry_on_startup=True,
    redis_socket_connect_timeout=3,
    redis_socket_timeout=5,            # a host that went silent is noticed within seconds
    broker_transport_options={
        "visibility_timeout": int(os.environ.get("VISIBILITY_TIMEOUT", "3600")),
        "unacked_restore_interval": 1,  # look for overdue unacknowledged tasks every second
        "unacked_restore_throttle": 1,
        "socket_timeout": 5,
        "socket_connect_timeout": 3,
        **({"master_name": MASTER} if MASTER else {}),  # ask the Sentinels for the primary
    },
    result_backend_transport_options={"master_name": MASTER} if MASTER else {},
)


@app.task(bind=True, acks_late=True, reject_on_worker_lost=True)
def crunch(self, number, seconds=0.2):
    """Pretend work. Counts every run of `number` in the result store (hash `runs`), then
    returns which worker (which host) ran it."""
    self.backend.client.hincrby("runs", str(number), 1)
    time.sleep(seconds)
    return {"number": number, "worker": self.request.hostname}
