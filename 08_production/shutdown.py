"""Warm, soft and cold shutdown, side by side: a running task and a task waiting for its ETA.

    python shutdown.py

Three workers of its own (prefork, one process each), each on its own queue, each given
build_report(2 s) to run (acks_late: acknowledged when it ends) and one task due in 60 s
(an ETA task: the worker holds it, unacknowledged, until it is due). Then, at the same moment:
  warm   SIGTERM (docker stop, systemctl stop, one Ctrl-C): no new tasks, finish the running ones
  soft   SIGQUIT with worker_soft_shutdown_timeout=3 (Celery 5.5+; given on the command line
         after --): the running tasks get up to 3 s, then the rest is cut off, as in cold
  cold   SIGQUIT (a second Ctrl-C): cut the running tasks off now
"""

import json
import signal
import time

from celery_task import app, build_report, work
from own_workers import started_workers
from redis_check import require_redis

KINDS = {"warm": (signal.SIGTERM, []), "soft": (signal.SIGQUIT, ["--", "worker.soft_shutdown_timeout=3"]),
         "cold": (signal.SIGQUIT, [])}
TIMEOUT = 20

require_redis(app)
client = app.backend.client  # the same Redis database as the broker (celery_task.py)


def holding(app, names, timeout=20):
    """Wait until every worker runs one task and holds one for its ETA (inspect, not a guess)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        inspect = app.control.inspect(destination=names, timeout=1, limit=len(names))
        active, scheduled = inspect.active() or {}, inspect.scheduled() or {}
        if all(len(active.get(n, [])) == 1 and len(scheduled.get(n, [])) == 1 for n in names):
            return
    raise SystemExit(f"[!] the workers did not start their reports within {timeout} s")


def back_in_queue(queue, tasks):
    """Which of tasks ({label: result}) have a message waiting in the queue again."""
    ids = {json.loads(raw)["headers"]["id"] for raw in client.lrange(queue, 0, -1)}
    found = [label for label, result in tasks.items() if result.id in ids]
    return " and ".join(found) or "nothing"


with app.connection_for_write() as connection:
    for kind in KINDS:
        connection.default_channel.queue_purge(f"shutdown.{kind}")
specs = [(f"shutdown-{kind}", ["-Q", f"shutdown.{kind}", "-c", "1", *extra])
         for kind, (_, extra) in KINDS.items()]
with started_workers(specs) as workers:
    running, later = {}, {}
    for kind in KINDS:
        later[kind] = work.apply_async((0, "eta"), countdown=60, queue=f"shutdown.{kind}")
        running[kind] = build_report.apply_async((kind, 2.0), queue=f"shutdown.{kind}")
    holding(app, [full for _, full, _ in workers])  # the reports run, the ETA tasks are held
    print("[1] each worker runs build_report (2 s) and holds a task due in 60 s; now the signals")
    stopped = time.monotonic()
    for (kind, (sig, _)), (proc, _, _) in zip(KINDS.items(), workers):
        proc.send_signal(sig)
    exited = {}
    while len(exited) < len(KINDS) and time.monotonic() - stopped < TIMEOUT:
        for kind, (proc, _, _) in zip(KINDS, workers):
            if kind not in exited and proc.poll() is not None:
                exited[kind] = time.monotonic() - stopped
        time.sleep(0.05)
for kind, (sig, _) in KINDS.items():
    queue = f"shutdown.{kind}"
    state = running[kind].state
    took = f"exited after {exited[kind]:.1f} s" if kind in exited else f"still running after {TIMEOUT} s"
    back = back_in_queue(queue, {"the report": running[kind], "the ETA task": later[kind]})
    print(f"[2] {kind:4}: {signal.Signals(sig).name} -> {took}; the report is {state}; "
          f"back in the queue: {back}")
with app.connection_for_write() as connection:
    for kind in KINDS:
        connection.default_channel.queue_purge(f"shutdown.{kind}")  # leave no task behind
running.clear(), later.clear()  # forget the results now, not while Python shuts down
print("[3] the ETA task went back to the queue every time (it was never acknowledged); a cut-off")
print("    acks_late task went back too and runs again later: keep tasks idempotent")
