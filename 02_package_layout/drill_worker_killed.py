"""Drill: kill the worker in the middle of its work, twice. No task may be lost.

    python drill_worker_killed.py

It runs its own worker, of the drills' app (drill_app.py: its own queue, so a worker of the
lesson's app running in another terminal takes none of them), sends 20 build_report tasks
of 1 s each, then
  - kills one pool process with SIGKILL (what the kernel's out-of-memory killer does),
  - kills the whole worker with SIGKILL (a crashed machine, `kill -9`), and restarts it,
and counts: submitted, completed, lost, and run more than once.
"""

import os
import signal
import subprocess
import sys
import tempfile
import time

import psutil
import redis
from celery.exceptions import TimeoutError as ResultTimeout

from drill_app import BACKEND_URL, VISIBILITY_TIMEOUT, app, build_report
from redis_check import require_redis

TASKS = 20
WORKER = ["celery", "-A", "drill_app", "worker", "-l", "info", "-c", "4", "-n", "drill@%h"]
log = tempfile.NamedTemporaryFile("w", prefix="drill-worker-", suffix=".log", delete=False)


def start_worker():
    # tasks sent while it starts up simply wait in Redis
    return subprocess.Popen(WORKER, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def wait_until_started(count, timeout=60):
    """Wait until `count` task runs have begun (each run adds itself to drill:runs)."""
    deadline = time.monotonic() + timeout
    while sum(map(int, runs.hvals("drill:runs"))) < count:
        if time.monotonic() > deadline:
            sys.exit(f"[!] fewer than {count} tasks started within {timeout} s: see {log.name}")
        time.sleep(0.05)


require_redis(app)
runs = redis.Redis.from_url(BACKEND_URL)
runs.delete("drill:runs")
print(f"[1] starting a worker: {' '.join(WORKER)} (log: {log.name})")
worker = start_worker()
results = [build_report.delay(n) for n in range(TASKS)]
print(f"[2] sent {TASKS} x build_report (1 s each, acks_late=True, reject_on_worker_lost=True)")
wait_until_started(4)  # the 4 pool processes are each running a task
victim = psutil.Process(worker.pid).children()[0]
victim.kill()
print(f"[3] killed pool process {victim.pid} with SIGKILL: its task goes back to the queue at once")
wait_until_started(10)  # a few more have started, and some are running right now
os.killpg(worker.pid, signal.SIGKILL)
worker.wait()
print(f"[4] killed the whole worker (pid {worker.pid}) with SIGKILL: no chance to clean up")
print("    its unacknowledged tasks stay parked in Redis: restarted under the same name, the")
print("    worker hands them back at once (outage.py); any other worker waits for")
print(f"    the visibility timeout ({VISIBILITY_TIMEOUT} s here, 1 hour by default)")
worker = start_worker()
print("[5] restarted the worker; waiting for every task (at most 60 s)")
deadline, completed = time.monotonic() + 60, 0
try:
    for result in results:
        try:
            result.get(timeout=max(0.1, deadline - time.monotonic()))
            completed += 1
        except ResultTimeout as exc:
            print(f"    {result.id}: {exc!r}")
finally:
    os.killpg(worker.pid, signal.SIGTERM)
    worker.wait(30)
counts = {int(k): int(v) for k, v in runs.hgetall("drill:runs").items()}
twice = sorted(n for n, count in counts.items() if count > 1)
print(f"[6] submitted {TASKS}, completed {completed}, lost {TASKS - completed}, "
      f"ran more than once {len(twice)} {twice}")
print("    At-least-once delivery: a task interrupted by a crash runs again from the start.")
print("    Make such tasks idempotent (running twice must do no harm), e.g. check whether the")
print("    report already exists, or use a unique key, before doing the work.")
log.close()
if completed == TASKS:
    os.unlink(log.name)  # keep the worker's log only when something went wrong
sys.exit(0 if completed == TASKS else 1)
