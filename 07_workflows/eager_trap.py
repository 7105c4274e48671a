"""What task_always_eager hides: the same call, run in this process and sent to a worker.

    python eager_trap.py

unique_words returns a Python set. In eager mode nothing is serialised, so it works; a real
worker must store the result as JSON, and JSON has no sets.
"""

from kombu.exceptions import EncodeError

from celery_task import app, unique_words
from redis_check import require_redis

TIMEOUT = 20

require_redis(app)
app.conf.task_always_eager = True   # what some test setups do: .delay() runs the task here
result = unique_words.delay("to be or not to be")
print(f"[1] eager: unique_words.delay(...) ran here -> {sorted(result.get())}: {result.state}")
app.conf.task_always_eager = False  # back to a real worker
result = unique_words.delay("to be or not to be")
try:
    result.get(timeout=TIMEOUT)
except EncodeError as exc:
    print(f"[2] with a worker: {result.state}, EncodeError: {exc}")
print("[3] the fix: return sorted(set(...)), a list; and test with a real worker "
      "(test_tasks.py does)")
