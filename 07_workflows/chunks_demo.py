"""chunks and starmap: many tiny calls, fewer messages.

    python chunks_demo.py

1,000 add(i, i): sent one by one, then as 10 chunks of 100, then as one starmap. Each
message costs a round trip to Redis and a result; a chunk runs its 100 calls in one task.
"""

import time

from celery.result import ResultSet
from celery.signals import before_task_publish

from celery_task import add, app
from redis_check import require_redis

COUNT, CHUNK, TIMEOUT = 1000, 100, 60
sent = []
before_task_publish.connect(lambda **kwargs: sent.append(1), weak=False)  # counts messages

require_redis(app)
pairs = [(i, i) for i in range(COUNT)]

started = time.monotonic()
results = ResultSet([add.delay(a, b) for a, b in pairs])
values = results.join_native(timeout=TIMEOUT)
one_by_one, messages = time.monotonic() - started, len(sent)
print(f"[1] one by one: {messages} messages, {one_by_one:.2f} s, sum {sum(values)}")

sent.clear()
started = time.monotonic()
values = add.chunks(pairs, CHUNK).apply_async().get(timeout=TIMEOUT)  # a list per chunk
chunked, chunk_messages = time.monotonic() - started, len(sent)
print(f"[2] add.chunks(pairs, {CHUNK}): {chunk_messages} messages, {chunked:.2f} s, "
      f"sum {sum(map(sum, values))}")

sent.clear()
started = time.monotonic()
values = add.starmap(pairs).delay().get(timeout=TIMEOUT)  # one task runs all 1,000 calls
print(f"[3] add.starmap(pairs): {len(sent)} message, {time.monotonic() - started:.2f} s, "
      f"sum {sum(values)} (all in one task, so no two run side by side)")
print(f"[4] chunks: {messages // chunk_messages}x fewer messages, "
      f"{one_by_one / chunked:.1f}x faster than one by one")
