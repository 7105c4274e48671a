"""A signature is a task call written down but not sent: its name, arguments and options.

    python signatures.py
"""

import json

from celery_task import add, app
from redis_check import require_redis

TIMEOUT = 20  # seconds to wait for any result

require_redis(app)
sig = add.s(2, 3)
print(f"[1] add.s(2, 3) -> {sig!r}: nothing is sent yet")
print(f"    as the message it will become: {json.dumps(dict(sig))}")
print(f"[2] sig() calls it here, like add(2, 3): {sig()}")
print(f"[3] sig.delay() sends it to a worker: {sig.delay().get(timeout=TIMEOUT)}")
partial = add.s(10)
print(f"[4] add.s(10) is partial: one argument still missing -> {partial!r}")
print(f"    partial.delay(5) adds it at the front: add(5, 10) = {partial.delay(5).get(timeout=TIMEOUT)}")
pipe = add.s(2, 3) | add.s(10)
print(f"[5] add.s(2, 3) | add.s(10) -> {pipe!r}: the first result becomes the missing argument")
print(f"    = {pipe.delay().get(timeout=TIMEOUT)}")
immutable = add.s(2, 3) | add.si(1, 1)
print(f"[6] add.si(1, 1) is immutable: it ignores what comes before -> {immutable!r}")
print(f"    = {immutable.delay().get(timeout=TIMEOUT)}")
