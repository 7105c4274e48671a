"""Drill: a task that kills its own process, every time, with reject_on_worker_lost=True.

    python drill_requeue_loop.py

Celery's documentation warns that reject_on_worker_lost "can cause message loops". Here is
one: crash() kills the pool process that runs it (as a task that always runs out of memory
would). Each time, reject_on_worker_lost puts its message back in the queue, and the worker
runs it again, without end. Revoking it stops the loop. Then the guard, crash_guarded():
with retry_on_worker_lost=True (Celery 5.7) a lost process counts as a retry, so after
max_retries=3 retries the task ends FAILURE instead of coming back.
It runs its own worker of the drills' app, one task at a time, with the visibility timeout
of 1 hour (drill_app:patient): the loop comes from reject_on_worker_lost alone. (With the
5 s of drill_app:app the drill would muddle two things: the worker can take up to 5 s to
notice a dead pool process, its pool upkeep runs every 5 s, and meanwhile the message,
still unacknowledged, would be handed out a second time by the visibility timeout.)
"""

import os
import signal
import subprocess
import sys
import tempfile
import time

import redis

from drill_app import BACKEND_URL, app, crash, crash_guarded
from redis_check import require_redis

LOOPS = 3  # runs of crash() to watch before revoking it
WORKER = ["celery", "-A", "drill_app:patient", "worker", "-l", "info", "-c", "1", "-n", "loop@%h"]
log = tempfile.NamedTemporaryFile("w", prefix="drill-loop-", suffix=".log", delete=False)


def runs_of(number):
    return int(runs.hget("drill:runs", f"crash-{number}") or 0)


def wait_for(condition, what, timeout=60):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            sys.exit(f"[!] {what} not within {timeout} s: see {log.name}")
        time.sleep(0.05)


require_redis(app)
runs = redis.Redis.from_url(BACKEND_URL)
runs.delete("drill:runs")
worker = subprocess.Popen(WORKER, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
print(f"[1] started a worker: {' '.join(WORKER)}")
try:
    looping = crash.delay(1)
    sent_at = time.monotonic()
    print("[2] sent crash(1): acks_late, reject_on_worker_lost; it kills its own process each run")
    wait_for(lambda: runs_of(1) >= LOOPS, f"{LOOPS} runs of crash(1)")
    print(f"    {time.monotonic() - sent_at:.1f} s later it has run {runs_of(1)} times and is still "
          f"{looping.state}: each time its message went back to the queue")
    looping.revoke()  # the worker drops the message the next time it is delivered
    wait_for(lambda: looping.state == "REVOKED", "the revoke")
    print(f"[3] revoked it: the loop stopped after {runs_of(1)} runs (state {looping.state})")

    guarded = crash_guarded.delay(2)
    sent_at = time.monotonic()
    print("[4] sent crash_guarded(2): the same, plus retry_on_worker_lost=True, max_retries=3")
    error = guarded.get(timeout=60, propagate=False)
    print(f"    it ran {runs_of(2)} times in {time.monotonic() - sent_at:.1f} s, then "
          f"{guarded.state}: {type(error).__name__}: {error}")
finally:
    os.killpg(worker.pid, signal.SIGTERM)
    worker.wait(30)
log.close()
os.unlink(log.name)
print("    reject_on_worker_lost alone can loop forever; with retry_on_worker_lost the loop ends.")
