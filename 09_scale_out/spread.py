"""Workers on two hosts, Redis on a third: the tasks spread over both.

    sudo python spread.py     (root makes the hosts; without root it runs on loopback, and says so)

[1] three hosts: a (Redis, and this script: the producer), b and c (a worker each)
[2] both workers answer over the network
[3] 40 tasks sent from host a; how many each host ran, from the results
"""

from collections import Counter

from cluster import Cluster

TASKS, TIMEOUT = 40, 60

with Cluster(["a", "b", "c"]) as cluster:
    print(f"[1] {cluster.net.describe()}")
    workers = [cluster.start_worker("b"), cluster.start_worker("c")]
    cluster.wait_for_workers(*workers)
    print(f"[2] Redis on host a (with a password), {' and '.join(workers)} answer a ping")
    from celery_task import crunch

    results = [crunch.delay(n, 0.1) for n in range(TASKS)]
    ran = Counter(result.get(timeout=TIMEOUT)["worker"] for result in results)
    print(f"[3] {TASKS} x crunch sent from host a; the results say: "
          + ", ".join(f"{name} ran {count}" for name, count in sorted(ran.items())))
print(f"[4] {cluster.net.gone()}")
