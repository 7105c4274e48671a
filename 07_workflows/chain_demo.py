"""chain: steps run one after another, each receiving the result of the step before.

    python chain_demo.py

A pipeline fetch -> parse -> store, once with a page that exists and once with one that does
not: the failing step stops the chain, and an errback (link_error) hears about it.
"""

import time

from celery import chain

from celery_task import app, fetch, parse, report_failure, store
from redis_check import require_redis

TIMEOUT = 20

require_redis(app)
app.backend.client.delete("errbacks")


def steps_of(result):
    """The AsyncResults of a chain, first step first (each result knows its parent)."""
    found = []
    while result is not None:
        found.insert(0, result)
        result = result.parent
    return found


pipeline = chain(fetch.s("celery"), parse.s(), store.s())  # the same as fetch.s() | parse.s() | ...
result = pipeline.delay()
print(f"[1] sent {pipeline!r}")
print(f"    -> {result.get(timeout=TIMEOUT)}")
for name, step in zip(("fetch", "parse", "store"), steps_of(result)):
    print(f"    {name:<5} {step.id[:8]}-... {step.state}")

broken = chain(fetch.s("missing"), parse.s(), store.s()).on_error(report_failure.s())
result = broken.delay()
print(f"[2] sent the same chain for a page that does not exist, with report_failure as errback")
try:
    result.get(timeout=TIMEOUT)
except LookupError as exc:
    print(f"    result.get() on the last step raised {exc!r}")
deadline = time.monotonic() + TIMEOUT  # the worker stores the later steps' failures one by one
while not all(step.ready() for step in steps_of(result)) and time.monotonic() < deadline:
    time.sleep(0.05)
for number, (name, step) in enumerate(zip(("fetch", "parse", "store"), steps_of(result))):
    print(f"    {name:<5} {step.id[:8]}-... {step.state} {type(step.result).__name__}"
          + ("  (raised here)" if number == 0 else "  (never ran: the worker stored fetch's error)"))
deadline = time.monotonic() + TIMEOUT
while not (seen := app.backend.client.lrange("errbacks", 0, -1)) and time.monotonic() < deadline:
    time.sleep(0.05)
for message in seen:
    print(f"[3] the errback ran once, in the worker: {message.decode()}")
if not seen:
    raise SystemExit(f"[!] the errback did not run within {TIMEOUT} s: is a worker running?")
