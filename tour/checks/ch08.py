"""Chapter 08's exercises (08_production/exercises/): each runs on a real worker.

The chapter's Procfile has no `worker` line (its workers are sms and reports, each on queues
of its own), so the checks name theirs: one worker on the queues the exercises use."""

import signal
import time

import psutil

from ..exercises import Ctx, NotYet

# As a learner would type it: the reports queue only (exercise 1 is right when this worker
# runs the report), prefork (the default pool: exercise 2 kills one of its processes).
WORKER = "celery -A celery_task worker -l info -Q reports -c 2"
PRIORITY_SEP = "\x06\x16"  # kombu's separator between a queue's name and a priority level


def queue_holding(ctx: Ctx, task_id: str) -> str | None:
    """The queue whose Redis list holds the message of task_id (None: no queue holds it)."""
    broker = ctx.redis("broker")
    for key in broker.scan_iter(_type="list"):
        if any(task_id in message for message in broker.lrange(key, 0, -1)):
            return key.split(PRIORITY_SEP)[0]
    return None


def route(ctx: Ctx) -> str:
    ctx.worker(command=WORKER)
    found = ctx.python("""
        from exercises.ex1_route import monthly_report
        done(sent=call(lambda month: monthly_report.delay(month).id, 3, limit=5))
    """)
    sent = found["sent"]
    if sent["hung"] or sent["error"]:
        raise NotYet(f"monthly_report.delay(3) {'did not return' if sent['hung'] else 'raised ' + sent['error']}")
    result = ctx.client().AsyncResult(sent["value"])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if result.ready():
            if result.failed():
                raise NotYet(f"monthly_report(3) reached the worker on `reports` but failed: {result.result!r}")
            return "monthly_report(3) went to the queue `reports`; the worker reading it ran it"
        queue = queue_holding(ctx, result.id)
        if queue is not None and queue != "reports":
            raise NotYet(f"monthly_report(3) was sent to the queue `{queue}` and waits there: "
                         "the worker reads `reports` only; it should go to `reports`")
        time.sleep(0.1)
    raise NotYet("monthly_report(3) got no result within 10 s, and no queue holds its message")


def not_lost(ctx: Ctx) -> str:
    worker = ctx.worker(command=WORKER)
    backend = ctx.redis("backend")
    backend.delete("import_batch:runs", "import_batch:pid")
    result = ctx.client().send_task("exercises.ex2_not_lost.import_batch", (7,), queue="reports")
    deadline, pid = time.monotonic() + 10, None
    while pid is None and time.monotonic() < deadline:
        pid = backend.hget("import_batch:pid", "7")
        time.sleep(0.05)
    if pid is None:
        raise NotYet("import_batch(7) recorded no pid in import_batch:pid within 10 s: has it started?")
    # kill only a pool process of the check's own worker
    pool = {child.pid for child in psutil.Process(worker.pid).children(recursive=True)}
    if int(pid) not in pool:
        raise NotYet(f"import_batch(7) recorded pid {pid}, which is not a pool process of the worker")
    psutil.Process(int(pid)).send_signal(signal.SIGKILL)
    value = result.get(timeout=15, propagate=False) if wait_ready(result, 15) else None
    runs = int(backend.hget("import_batch:runs", "7") or 0)
    if not result.ready():
        raise NotYet(f"import_batch(7) ran {runs} time(s) and had no result 15 s after its process was killed")
    if result.failed():
        options = ctx.python("""
            from exercises.ex2_not_lost import import_batch as task
            done(acks_late=bool(task.acks_late), reject=bool(task.reject_on_worker_lost))
        """)
        why = ("acks_late is set, yet the worker acknowledged the lost task anyway (what does it "
               "do when the worker is lost?)" if options["acks_late"] and not options["reject"] else
               "its message had been acknowledged when the task started")
        raise NotYet(f"its pool process was killed: import_batch(7) ran {runs} time and ended in "
                     f"{result.state} ({type(value).__name__}); {why}. It should run again, to SUCCESS")
    if runs < 2:
        raise NotYet(f"import_batch(7) ended in SUCCESS but ran {runs} time: was it killed at all?")
    return f"its pool process killed mid-run, import_batch(7) ran again: {runs} runs, SUCCESS"


def wait_ready(result, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result.ready():
            return True
        time.sleep(0.1)
    return False


CHECKS = {"ex1_route": route, "ex2_not_lost": not_lost}
