"""Drill: stopping a worker politely (warm), at once (cold), and with a time limit (soft).

    python drill_shutdown.py

Its workers run the drills' app with Celery's default visibility timeout of 1 hour
(drill_app:patient), so nothing here comes back because a timeout ran out.
[1] Warm shutdown: SIGTERM (or one Ctrl-C). The worker stops taking tasks, finishes the
    ones it runs, however long they take, then exits.
[2] Cold shutdown: a second Ctrl-C (or SIGQUIT). The worker cuts the running task off and
    exits. build_report has acks_late=True, so its message was never acknowledged: the
    worker puts it back in the queue as it closes its connection to Redis ("Restoring 1
    unacknowledged message(s)" in its log), and [3] the next worker runs it again at once.
[4] Soft shutdown (Celery 5.5+, drill_app:soft): with worker_soft_shutdown_timeout=3, the
    same second Ctrl-C first gives the running tasks 3 s to finish, then cuts off what
    still runs, as in [2].
"""

import os
import signal
import subprocess
import tempfile
import time

import redis

from drill_app import BACKEND_URL, BROKER_URL, QUEUE, UNACKED, app, build_report
from redis_check import require_redis

WORKER = ["celery", "-A", "drill_app:patient", "worker", "-l", "info", "-c", "1", "-n", "shutdown@%h"]
SOFT_WORKER = ["celery", "-A", "drill_app:soft", "worker", "-l", "info", "-c", "1", "-n", "shutdown@%h"]
log = tempfile.NamedTemporaryFile("w", prefix="drill-shutdown-", suffix=".log", delete=False)


def start_worker(command=WORKER):
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def wait_until_started(result, timeout=20):
    deadline = time.monotonic() + timeout
    while result.state != "STARTED":
        if time.monotonic() > deadline:
            raise SystemExit("[!] the task did not start within 20 s: is Redis running?")
        time.sleep(0.05)


def press_ctrl_c_twice(worker):
    worker.send_signal(signal.SIGINT)   # Ctrl-C: warm shutdown begins
    time.sleep(0.5)
    worker.send_signal(signal.SIGINT)   # Ctrl-C again: cold shutdown (soft first, if set)


require_redis(app)
runs, broker = redis.Redis.from_url(BACKEND_URL), redis.Redis.from_url(BROKER_URL)
runs.delete("drill:runs")

worker = start_worker()
result = build_report.delay(1, 3)
wait_until_started(result)
stopped_at = time.monotonic()
worker.send_signal(signal.SIGTERM)
print("[1] warm shutdown: sent SIGTERM while build_report(1) was running (it takes 3 s)")
code = worker.wait(30)
print(f"    the worker finished the task, then exited after {time.monotonic() - stopped_at:.1f} s "
      f"(exit code {code}); the task is {result.state}: {result.get(timeout=5)}")

worker = start_worker()
result = build_report.delay(2, 5)
wait_until_started(result)
stopped_at = time.monotonic()
press_ctrl_c_twice(worker)
code = worker.wait(30)
print("[2] cold shutdown: pressed Ctrl-C twice while build_report(2) was running (it takes 5 s)")
print(f"    the worker exited after {time.monotonic() - stopped_at:.1f} s (exit code {code}); "
      f"the task was cut off, still {result.state}")
print(f"    its message is back in the queue already: {broker.llen(QUEUE)} in the queue, "
      f"{broker.hlen(UNACKED)} unacknowledged")
worker = start_worker()
started_at = time.monotonic()
print("[3] started a new worker: it takes the message at once (no visibility timeout to wait for)")
try:
    value = result.get(timeout=30)
finally:
    worker.send_signal(signal.SIGTERM)
    worker.wait(30)
print(f"    build_report(2) finished {time.monotonic() - started_at:.1f} s later: {value} "
      f"(run {runs.hget('drill:runs', '2').decode()} times)")

worker = start_worker(SOFT_WORKER)
result = build_report.delay(3, 2)
wait_until_started(result)
stopped_at = time.monotonic()
press_ctrl_c_twice(worker)
code = worker.wait(30)
print("[4] soft shutdown: pressed Ctrl-C twice while build_report(3) was running (it takes 2 s),")
print("    on a worker with worker_soft_shutdown_timeout=3")
print(f"    the worker gave it 3 s, then exited after {time.monotonic() - stopped_at:.1f} s "
      f"(exit code {code}); the task is {result.state}: {result.get(timeout=5)}")
log.close()
os.unlink(log.name)
print("    Stop workers with SIGTERM (docker stop, systemctl stop do) and give them time;")
print("    a cold stop or a crash means the task runs again: keep tasks idempotent.")
