"""A task that leaks, and the pool process replaced before it eats the machine.

    python memory.py         (with the reports@ worker of the README running)

leak_memory(40) keeps 40 MB for good each time a pool process runs it (celery_task.py:
KEPT). The reports@ worker runs with --max-memory-per-child=150000 (KiB, about 146 MiB):
after a task, a pool process whose peak resident size is above that exits, and the worker
starts a fresh one. (--max-tasks-per-child=N does the same after N tasks, whatever the size.)
"""

import time

from celery_task import app, leak_memory
from own_workers import HOST, needs_workers
from redis_check import require_redis

LIMIT_KB, CALLS, MEGABYTES = 150000, 8, 40

require_redis(app)
needs_workers(app, "reports")
name = f"reports@{HOST}"


def pool_processes():
    stats = app.control.inspect(destination=[name], timeout=3).stats() or {}
    return stats.get(name, {}).get("pool", {}).get("processes", [])


before = pool_processes()
print(f"[1] {name}: pool processes {before}, limit {LIMIT_KB} KiB ({LIMIT_KB / 1024:.0f} MiB)")
print(f"[2] {CALLS} calls of leak_memory({MEGABYTES}), one after another:")
over = []
for call in range(1, CALLS + 1):
    ran = leak_memory.delay(MEGABYTES).get(timeout=15)
    peak = ran["peak_kb"] / 1024
    note = ""
    if ran["peak_kb"] > LIMIT_KB:
        over.append(ran["pid"])
        note = "  over the limit: this process exits after this task"
    print(f"    call {call}: ran in pid {ran['pid']}, its peak resident size {peak:.0f} MiB{note}")
deadline = time.monotonic() + 10
while any(pid in (after := pool_processes()) for pid in over) and time.monotonic() < deadline:
    time.sleep(0.2)  # a process over the limit exits after its task; give it a moment
replaced = [pid for pid in over if pid not in after]
print(f"[3] pool processes now {after}: {len(replaced)} of {len(over)} that went over the "
      f"limit were replaced (no pid came back after going over)")
