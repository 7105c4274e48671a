"""Remote control: ask running workers what they do, and change them without a restart.

    python remote_control.py   (with the two workers of the README running: sms@, reports@)

Every call here is a broadcast over Redis that the workers answer; `celery -A celery_task
inspect <command>` and `celery -A celery_task control <command>` send the same from a terminal.
[1] inspect active_queues: who reads which queue
[2] three reports and one task due in 30 s: inspect active / reserved / scheduled
[3] inspect stats: the reports@ pool and its autoscaler (--autoscale=3,1)
[4] pool_grow on an autoscaled worker is refused; control autoscale moves its bounds instead
[5] a spare worker of fixed size (-c 1): pool_grow / pool_shrink, add_consumer / cancel_consumer
"""

import time

from celery_task import app, build_report, work
from own_workers import HOST, needs_workers, started_worker
from redis_check import require_redis

REPORTS = f"reports@{HOST}"

require_redis(app)
needs_workers(app, "sms", "reports")


def ask(command, name, **arguments):
    """One worker's answer to an inspect command; asked up to 3 times, 3 s each (a worker that
    has just started may miss the first broadcast). Exits with one line if it never answers."""
    for _ in range(3):
        inspector = app.control.inspect(destination=[name], timeout=3, limit=1)
        answer = (getattr(inspector, command)(**arguments) or {}).get(name)
        if answer is not None:
            return answer
    raise SystemExit(f"[!] {name} did not answer `inspect {command}` within 9 s: is it running?")


def tell(command, name, **arguments):
    """One worker's answer to a control command: 'ok: ...' or 'refused: ...'."""
    replies = app.control.broadcast(command, arguments=arguments, destination=[name],
                                    reply=True, timeout=3, limit=1)
    answer = replies[0][name] if replies else {"error": "no answer within 3 s"}
    return f"ok: {answer['ok']}" if "ok" in answer else f"refused: {answer['error']}"


def until(get, done, timeout=10):
    """get() again every 0.2 s until done(value) or timeout; the last value either way
    (a broadcast is answered at once, its effect takes a moment)."""
    deadline = time.monotonic() + timeout
    while not done(value := get()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return value


def processes_become(name, count, timeout=10):
    """Wait until the worker's pool has count processes (forking one takes a moment)."""
    return len(until(lambda: ask("stats", name)["pool"]["processes"],
                     lambda found: len(found) == count, timeout))


def queues(name):
    return ", ".join(sorted(queue["name"] for queue in ask("active_queues", name) or []))


def names(requests):
    return ", ".join(sorted(f"{r.get('request', r)['name'].split('.')[-1]}" for r in requests)) or "none"


print(f"[1] active_queues: sms@{HOST} reads {queues(f'sms@{HOST}')}; {REPORTS} reads {queues(REPORTS)}")

reports = [build_report.delay(n, 1.5) for n in range(3)]
later = build_report.apply_async((99, 0), countdown=30)
active, reserved, scheduled = until(  # until the worker has taken all four
    lambda: [ask(command, REPORTS) or [] for command in ("active", "reserved", "scheduled")],
    lambda lists: sum(map(len, lists)) == 4)
print(f"[2] sent 3 reports (1.5 s each) and one due in 30 s; {REPORTS} answers:")
print(f"    active    {len(active)}: {names(active)}   (running now)")
print(f"    reserved  {len(reserved)}: {names(reserved)}   (taken, waiting for a free process)")
print(f"    scheduled {len(scheduled)}: {names(scheduled)}   (holding it until its ETA)")

stats = ask("stats", REPORTS)
scaler = stats["autoscaler"]
print(f"[3] stats: {len(stats['pool']['processes'])} pool processes, autoscaler min {scaler['min']} "
      f"max {scaler['max']}, {stats['prefetch_count']} messages may be taken ahead")

print(f"[4] pool_grow 1 on {REPORTS}: {tell('pool_grow', REPORTS, n=1)}")
print(f"    autoscale 4 1: {tell('autoscale', REPORTS, max=4, min=1)}")
print(f"    autoscale 3 1: {tell('autoscale', REPORTS, max=3, min=1)}   (as it was)")
app.control.revoke(later.id)  # the task due in 30 s will not run
for report in reports:
    report.get(timeout=15)

with started_worker("-Q", "spare", "-c", "1", name="spare") as (_, spare, _):
    print(f"[5] {spare}: {len(ask('stats', spare)['pool']['processes'])} pool process, reads {queues(spare)}")
    print(f"    pool_grow 2: {tell('pool_grow', spare, n=2)}; now {processes_become(spare, 3)} pool processes")
    print(f"    pool_shrink 2: {tell('pool_shrink', spare, n=2)}")
    left = processes_become(spare, 1, timeout=3)
    if left > 1:  # shrink stops idle processes only: one just forked may not have been idle yet
        print(f"    {left} left (pool_shrink stops only idle processes); "
              f"pool_shrink {left - 1}: {tell('pool_shrink', spare, n=left - 1)}")
        left = processes_become(spare, 1)
    print(f"    now {left} pool process{'es' * (left != 1)}")
    print(f"    add_consumer reports: {tell('add_consumer', spare, queue='reports')}")
    print(f"    now it reads {until(lambda: queues(spare), lambda q: 'reports' in q)}")
    print(f"    cancel_consumer reports: {tell('cancel_consumer', spare, queue='reports')}")
    print(f"    now it reads {until(lambda: queues(spare), lambda q: 'reports' not in q)}")
