"""Rate limits are per worker: two workers, twice the rate.

    python rate_limits.py    (with the two workers of the README running: sms@, reports@)

call_api is declared with rate_limit="10/m" (celery_task.py), and both workers read its
queue, "api". [1] raises the limit at run time to 120/m, as `celery control rate_limit`
does (a broadcast every worker answers), [2] sends 16 calls and counts who ran them when,
[3] puts 10/m back. Each worker keeps its own token bucket (one call at once, then one every
60/rate seconds): with two workers the calls run twice as fast as the setting says.
"""

import math
import time
from collections import Counter

from celery_task import app, call_api
from own_workers import needs_workers
from redis_check import require_redis

CALLS, RATE, PER_SECOND, TIMEOUT = 16, "120/m", 2.0, 30

require_redis(app)
needs_workers(app, "sms", "reports")
replies = app.control.rate_limit(call_api.name, RATE, reply=True, timeout=3, limit=2)
print(f"[1] rate_limit {call_api.name} {RATE}, broadcast:")
for name, answer in sorted(item for reply in replies for item in reply.items()):
    print(f"    {name}: {answer.get('ok', answer)}")

started = time.time()
results = [call_api.delay(n) for n in range(CALLS)]
runs = [result.get(timeout=TIMEOUT) for result in results]
took = max(run["ran_at"] for run in runs) - started
per_worker = Counter(run["worker"].split("@")[0] for run in runs)
alone = 1 + math.floor(took * PER_SECOND)  # what one worker could have run in that time
print(f"[2] {CALLS} calls ran in {took:.1f} s, {CALLS / took:.1f} a second; the limit says "
      f"{PER_SECOND:.0f} a second")
print(f"    by worker: {', '.join(f'{name} {count}' for name, count in sorted(per_worker.items()))}; "
      f"one worker alone could have run {alone} in {took:.1f} s")

app.control.rate_limit(call_api.name, "10/m", reply=True, timeout=3, limit=2)
print("[3] put 10/m back. A limit for all workers together needs a shared counter (in Redis,")
print("    say) or a single worker for that queue")
