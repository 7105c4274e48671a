"""chord: a group (the header) and one task (the body) that gets all of the group's results.

    python chord_demo.py

Map-reduce: the sum of 1..1000 as ten partial sums added up. Then one partial sum fails.
"""

import time

from celery import chord

from celery_task import app, partial_sum, report_failure, total
from redis_check import require_redis

TIMEOUT = 20


def wait_for_errback():
    deadline = time.monotonic() + TIMEOUT
    while not (seen := app.backend.client.lrange("errbacks", 0, -1)):
        if time.monotonic() > deadline:
            raise SystemExit(f"[!] the errback did not run within {TIMEOUT} s: is a worker running?")
        time.sleep(0.05)
    return [message.decode() for message in seen]


def main():
    require_redis(app)
    numbers = list(range(1, 1001))
    header = [partial_sum.s(numbers[i:i + 100], 0.1 * (i // 100)) for i in range(0, 1000, 100)]
    result = chord(header)(total.s())
    print(f"[1] sent a chord: {len(header)} partial_sum tasks (the header), then total (the body)")
    # How the Redis backend completes a chord: each header task that finishes adds its result
    # to the sorted set <group>.j; the one that brings it to the size stored in <group>.s
    # sends the body with all the results, in header order.
    collected = f"celery-taskset-meta-{result.parent.id}.j"
    counts = []
    while not result.ready():
        count = app.backend.client.zcard(collected)  # 0 again once the chord cleaned up
        if count and count not in counts:
            counts.append(count)
        time.sleep(0.02)
    print(f"[2] results collected in celery-taskset-meta-<group id>.j while it ran: "
          f"{' -> '.join(map(str, counts))} of {len(header)}, then deleted")
    print(f"    the task that completed the set sent the body: total = "
          f"{result.get(timeout=TIMEOUT)} (sum(range(1, 1001)) = {sum(numbers)})")

    app.backend.client.delete("errbacks")
    header = [partial_sum.s([1, 2]), partial_sum.s([3, "four"]), partial_sum.s([5, 6])]
    result = chord(header)(total.s().on_error(report_failure.s()))
    print("[3] a chord whose second partial sum gets the string 'four'")
    result.get(timeout=TIMEOUT, propagate=False)
    print(f"    the body never ran: {result.state}, {type(result.result).__name__}: {result.result}")
    for message in wait_for_errback():
        print(f"[4] the body's errback ran in the worker: {message}")


main()  # in a function, so its results are gone before Python shuts down
