"""A host cut off while it holds tasks: they come back, on the other host. Nothing is lost.

    sudo python cut_off.py    (root makes the hosts; without root it runs on loopback, and says so)

The workers run with acks_late=True tasks (crunch) and a visibility timeout of 5 s
(VISIBILITY_TIMEOUT): Redis hands a task nobody acknowledged within 5 s to another worker.
[1]-[2] Redis on host a, a worker on b and on c (2 threads each)
[3] 20 tasks of 1 s; once host c is busy with some, its link goes down (ip link set ... down):
    the cable pulled out. Host c can neither finish its tasks for Redis nor say it is gone.
[4] 5 s later Redis gives c's unacknowledged tasks to b; count submitted / completed / lost,
    and the tasks that ran twice (started on c before the cut, then again on b).
A visibility timeout this short is for the drill: in production it must be longer than your
longest task and ETA (chapter 03 shows why); the tasks then come back that much later.
"""

import time
from collections import Counter

from cluster import Cluster

TASKS, SECONDS, TIMEOUT = 20, 1.0, 60

with Cluster(["a", "b", "c"], visibility_timeout=5) as cluster:
    print(f"[1] {cluster.net.describe()}")
    workers = [cluster.start_worker("b"), cluster.start_worker("c")]
    cluster.wait_for_workers(*workers)
    print(f"[2] Redis on host a, {' and '.join(workers)} answer a ping; visibility timeout 5 s")
    from celery_task import app, crunch

    client = app.backend.client
    results = [crunch.delay(n, SECONDS) for n in range(TASKS)]
    cluster.wait(lambda: (app.control.inspect(destination=["worker@hostc"], timeout=1).active()
                          or {}).get("worker@hostc"), "host c starting a task", 20)
    unacked = app.connection_for_write().default_channel.client.hlen("unacked")
    cluster.net.cut("c")
    cut_at = time.monotonic()
    print(f"[3] sent {TASKS} x crunch({SECONDS:g} s); host c cut off while Redis held {unacked} "
          "unacknowledged tasks")
    done = [result.get(timeout=TIMEOUT) for result in results]
    took = time.monotonic() - cut_at
    runs = {int(k): int(v) for k, v in client.hgetall("runs").items()}
    by_host = Counter(ran["worker"] for ran in done)
    completed = sum(1 for result in results if result.successful())
    twice = sum(1 for n in range(TASKS) if runs.get(n, 0) > 1)
    print(f"[4] every result was in {took:.1f} s after the cut; they came from "
          + ", ".join(f"{name} {count}" for name, count in sorted(by_host.items())))
    print(f"[5] submitted {TASKS}, completed {completed}, lost {TASKS - completed}, ran twice {twice}")
print(f"[6] {cluster.net.gone()}")
