"""Prefetch and fairness: short tasks stuck behind a long one in another worker's hands.

    python fairness.py

Each round starts two workers of its own (one thread each) on the queue "fairness", sends
one long task (1.5 s) and then 7 short ones (0.1 s), and measures how long each short task
waited between being sent and starting. Meanwhile the other worker may sit idle.
[1] Celery's defaults: each worker takes up to 4 messages ahead (worker_prefetch_multiplier=4
    x 1 thread) and acknowledges a task when it starts.
[2] --prefetch-multiplier 1: one message ahead... but the long task was acknowledged when it
    started, so its worker takes one more.
[3] --prefetch-multiplier 1 and acks_late (work_acks_late): the running task counts until it
    ends, so a busy worker takes nothing more.
"""

import time

from celery_task import app, work, work_acks_late
from own_workers import median_p95, started_workers
from redis_check import require_redis

QUEUE, LONG, SHORT, SHORTS, TIMEOUT = "fairness", 1.5, 0.1, 7, 30

require_redis(app)
with app.connection_for_write() as connection:
    connection.default_channel.queue_purge(QUEUE)


def round_trip(task, *worker_args):
    args = ("-Q", QUEUE, "-P", "threads", "-c", "1", *worker_args)
    with started_workers([("fair1", args), ("fair2", args)]):
        long_one = task.apply_async((LONG, "long"), queue=QUEUE)
        time.sleep(0.05)
        sent = []
        for n in range(SHORTS):
            sent.append((time.time(), task.apply_async((SHORT, f"short {n}"), queue=QUEUE)))
            time.sleep(0.02)
        shorts = [(at, result.get(timeout=TIMEOUT)) for at, result in sent]
        long_ran = long_one.get(timeout=TIMEOUT)
    waits = [ran["ran_at"] - at for at, ran in shorts]
    # stuck: held by the long task's worker, so it could only start once the long one ended
    stuck = sum(ran["worker"] == long_ran["worker"] and ran["ran_at"] > long_ran["ran_at"]
                for _, ran in shorts)
    median, p95 = median_p95(waits)
    return f"    {stuck} of {SHORTS} short tasks waited behind the long one; " \
           f"their waits: median {median:.2f} s, p95 {p95:.2f} s"


print("[1] Celery's defaults: 4 messages ahead per worker")
print(round_trip(work))
print("[2] --prefetch-multiplier 1")
print(round_trip(work, "--prefetch-multiplier", "1"))
print("[3] --prefetch-multiplier 1, and the task has acks_late=True")
print(round_trip(work_acks_late, "--prefetch-multiplier", "1"))
