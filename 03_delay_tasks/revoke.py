"""Call off a delayed task before it is due, then check that it never runs.

    python revoke.py            the eta task submit.py saved in .last_task_id
    python revoke.py TASK_ID    any task id
"""

import sys
import time
from datetime import datetime

from celery.result import AsyncResult

from celery_task.celery import app
from celery_task.run_records import runs_of
from clocks import clock
from last_id import load_last_id
from redis_check import require_redis

require_redis(app)
task_id = sys.argv[1] if len(sys.argv) > 1 else load_last_id()
source = "" if len(sys.argv) > 1 else " (read from .last_task_id)"
print(f"[1] task {task_id}{source}")
result = AsyncResult(task_id, app=app)

# [2] A worker that received a delayed task keeps it in memory until it is due; ask them all.
replies = app.control.inspect(timeout=1).scheduled() or {}
held = {entry["request"]["id"]: (worker, entry["eta"])
        for worker, entries in replies.items() for entry in entries}
if task_id not in held:
    runs = runs_of(task_id)
    if result.state == "REVOKED":
        sys.exit(f"[!] nothing to do: it is already REVOKED (it ran {len(runs)} times)")
    if runs:
        sys.exit(f"[!] too late: it already ran at {clock(runs[0]['started'])}. Revoking cannot "
                 "undo a run. Send a new one: python submit.py --seconds 60 --no-wait")
    if not replies:
        sys.exit("[!] no worker answered. Is one running in this folder "
                 "(celery -A celery_task worker -l info), against the same REDIS_URL?")
    sys.exit(f"[!] no worker holds a delayed task with this id (workers asked: "
             f"{', '.join(replies)}). Check the id.")
worker, eta = held[task_id]
due = datetime.fromisoformat(eta).timestamp()
print(f"[2] {worker} holds it; it is due at {clock(due)} (in {due - time.time():.1f} s)")

# [3] revoke() broadcasts the id to every worker; each keeps a list of revoked ids in memory.
app.control.revoke(task_id)
sent = time.monotonic()
while result.state != "REVOKED" and time.monotonic() - sent < 5:
    time.sleep(0.05)
print(f"[3] sent app.control.revoke(id): {time.monotonic() - sent:.2f} s later the state is "
      f"{result.state}")

# [4] Stay until well after the due time, to see that nothing runs.
until = due + 2
print(f"[4] waiting until 2 s after it was due ({clock(until)}) ...")
while time.time() < until:
    time.sleep(0.1)
runs = runs_of(task_id)
print(f"[5] it ran {len(runs)} times; state {result.state}. At its due time the worker "
      "dropped it (its log says 'Discarding revoked task').")
if runs:
    sys.exit("[!] it ran anyway: was it revoked after its due time?")
