"""Priorities on Redis: what `priority=` does, and what it does not promise.

    python priorities.py

It starts a worker of its own on the queue "backlog" (one thread: one task at a time), so the
README's workers never see these tasks. celery_task.py's broker_transport_options give each
queue ten lists, one per priority; a worker empties the list of a lower number first.
[1] 10 tasks with priority 9 sent first, then 10 with priority 0, all before the worker
    starts: the priority-0 ones run first.
[2] the worker busy, 8 more priority-9 tasks, then 3 with priority 0: the worker had taken
    some priority-9 messages already (prefetch), and those run before the new priority 0.
"""

import time

from celery_task import app, work
from own_workers import started_worker
from redis_check import require_redis

QUEUE, TIMEOUT = "backlog", 30

require_redis(app)
with app.connection_for_write() as connection:
    connection.default_channel.queue_purge(QUEUE)  # this queue and its nine priority lists


def order(results):
    done = sorted((result.get(timeout=TIMEOUT) for result in results), key=lambda r: r["ran_at"])
    return [r["label"] for r in done]


def send(label, priority, seconds=0.02):
    return work.apply_async((seconds, label), queue=QUEUE, priority=priority)


sent = [send("9", 9) for _ in range(10)] + [send("0", 0) for _ in range(10)]
print("[1] sent 10 tasks with priority 9, then 10 with priority 0; no worker yet")
with started_worker("-Q", QUEUE, "-P", "threads", "-c", "1", name="backlog"):
    ran = order(sent)
    print(f"    the worker ran them in this order: {' '.join(ran)}")
    print(f"    the first 10 it ran had priority 0: {ran[:10] == ['0'] * 10}")

    sent = [send("9", 9, 0.2) for _ in range(8)]
    time.sleep(0.3)
    sent += [send("0", 0, 0.2) for _ in range(3)]
    ran = order(sent)
    print("[2] 8 tasks with priority 9 (0.2 s each); 0.3 s later, 3 with priority 0")
    print(f"    the worker ran them in this order: {' '.join(ran)}")
    print(f"    {ran.index('0')} priority-9 tasks ran before the first priority 0: the worker "
          "had taken them already (prefetch)")
