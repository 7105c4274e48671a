"""Drill: stopping a worker politely (warm shutdown) and impatiently (cold shutdown).

    python drill_shutdown.py

[1] SIGTERM (or one Ctrl-C): the worker stops taking tasks, finishes the one it runs, exits.
[2] A second Ctrl-C: the worker exits at once and the running task is cut off. Because
    build_report has acks_late=True, its message was never acknowledged, so it runs again
    on the next worker.
"""

import os
import signal
import subprocess
import tempfile
import time

import redis

from celery_task.celery import BACKEND_URL, require_redis
from celery_task.report_task import build_report

os.environ["DRILL_VISIBILITY_TIMEOUT"] = "3"  # the cut-off task comes back after 3 s
WORKER = ["celery", "-A", "celery_task", "worker", "-l", "info", "-c", "1", "-n", "shutdown@%h"]
log = tempfile.NamedTemporaryFile("w", prefix="drill-shutdown-", suffix=".log", delete=False)


def start_worker():
    return subprocess.Popen(WORKER, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def wait_until_started(result, timeout=20):
    deadline = time.monotonic() + timeout
    while result.state != "STARTED":
        if time.monotonic() > deadline:
            raise SystemExit("[!] the task did not start within 20 s: is Redis running?")
        time.sleep(0.05)


require_redis()
runs = redis.Redis.from_url(BACKEND_URL)
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
worker.send_signal(signal.SIGINT)   # Ctrl-C
time.sleep(0.5)
worker.send_signal(signal.SIGINT)   # Ctrl-C again: cold shutdown
code = worker.wait(30)
print("[2] cold shutdown: pressed Ctrl-C twice while build_report(2) was running (it takes 5 s)")
print(f"    the worker exited after {time.monotonic() - stopped_at:.1f} s (exit code {code}); "
      f"the task was cut off, still {result.state}")
worker = start_worker()
print("[3] started a new worker: the unacknowledged message is delivered again")
try:
    value = result.get(timeout=30)
finally:
    os.killpg(worker.pid, signal.SIGTERM)
    worker.wait(30)
print(f"    build_report(2) finished: {value} (run {runs.hget('drill:runs', '2').decode()} times)")
log.close()
os.unlink(log.name)
print("    Stop workers with SIGTERM (docker stop, systemctl stop do) and give them time;")
print("    a cold stop or a crash means the task runs again: keep tasks idempotent.")
