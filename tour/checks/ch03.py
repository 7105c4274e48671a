"""Chapter 03's exercises (03_delay_tasks/exercises/): each runs on a real worker."""

import json
import textwrap
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from ..exercises import Ctx, NotYet

SHANGHAI = ZoneInfo("Asia/Shanghai")

# What the drivers below share: the learner's function's return value, made JSON (an
# AsyncResult becomes its id; anything else is named, for the hint).
AS_RESULT = """
def as_result(box):
    value = box.pop("value")
    box["id"] = getattr(value, "id", None) if not isinstance(value, str) else None
    box["got"] = "None" if value is None else type(value).__name__
    return box
"""


def shanghai(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%a %m-%d %H:%M:%S")


def from_now(moment: datetime) -> str:
    seconds = round((moment - datetime.now(timezone.utc)).total_seconds())
    hours, rest = divmod(abs(seconds), 3600)
    text = f"{hours} h {rest // 60} min" if hours else f"{abs(seconds)} s"
    return f"in {text}" if seconds >= 0 else f"{text} ago"


def returned_no_result(what: str, box: dict) -> None:
    if box["hung"]:
        raise NotYet(f"{what} had not returned after {box['seconds']} s")
    if box["error"]:
        raise NotYet(f"{what} raised {box['error']}")
    if not box["id"]:
        raise NotYet(f"{what} returned {box['got']}; it should return what apply_async "
                     "returns (an AsyncResult, with the task's id)")


def held_by_worker(ctx: Ctx, task_id: str, seconds: float = 6) -> tuple[dict | None, list]:
    """The worker's entry for a task it holds for later (inspect scheduled), or the runs the
    task recorded when it ran at once instead; (None, []) when neither within seconds."""
    inspect = ctx.client().control.inspect(timeout=0.5)
    backend = ctx.redis("backend")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for entries in (inspect.scheduled() or {}).values():
            for entry in entries:
                if entry["request"]["id"] == task_id:
                    return entry, []
        runs = [json.loads(raw) for raw in backend.lrange(f"runs:{task_id}", 0, -1)]
        if runs:
            return None, runs
        time.sleep(0.1)
    return None, []


def tomorrow(ctx: Ctx) -> str:
    ctx.worker()
    found = ctx.python(AS_RESULT + textwrap.dedent("""
        from datetime import datetime
        from exercises.ex1_tomorrow import eight_tomorrow_in_shanghai, send_morning_sms
        moment = call(eight_tomorrow_in_shanghai, limit=5)
        value = moment.pop("value")
        moment["iso"] = value.isoformat() if isinstance(value, datetime) else None
        moment["aware"] = isinstance(value, datetime) and value.utcoffset() is not None
        moment["got"] = type(value).__name__
        before = time.time()
        sent = as_result(call(send_morning_sms, "13800000000", "0800", limit=5))
        done(moment=moment, sent=sent, before=before, after=time.time())
    """))
    sent = found["sent"]
    returned_no_result('send_morning_sms("13800000000", "0800")', sent)
    wanted = {datetime.combine(datetime.fromtimestamp(t, SHANGHAI).date() + timedelta(days=1),
                               datetime.min.time(), tzinfo=SHANGHAI).replace(hour=8)
              for t in (found["before"], found["after"])}  # the two differ only at midnight
    goal = min(wanted)
    expected = (f"08:00 tomorrow Shanghai time, {shanghai(goal)} "
                f"(= {goal.astimezone(timezone.utc):%a %H:%M} UTC)")
    entry, runs = held_by_worker(ctx, sent["id"])
    ctx.client().control.revoke(sent["id"])  # it has been looked at; never let it run
    if entry is None:
        if runs:
            eta = runs[0]["eta"]
            had = (f"its eta, {shanghai(datetime.fromisoformat(eta))} Shanghai time, was in the past"
                   if eta else "it had no eta")
            raise NotYet(f"the worker ran the SMS at once: {had}; it should hold it until {expected}")
        raise NotYet(f"the worker does not hold the SMS for later (inspect scheduled lists no "
                     f"task {sent['id']}); it should, until {expected}")
    eta = datetime.fromisoformat(entry["eta"])
    if eta not in wanted:
        off = (eta - goal).total_seconds()
        why = {8 * 3600: ": 08:00 UTC, a naive datetime is read as UTC",
               -24 * 3600: ": that is today, not tomorrow"}.get(round(off), "")
        raise NotYet(f"the worker holds the SMS due {shanghai(eta)} Shanghai time "
                     f"({from_now(eta)}){why}; "
                     f"it should be due at {expected}")
    moment = found["moment"]
    if moment["error"] or not moment["iso"]:
        raise NotYet(f"eight_tomorrow_in_shanghai() "
                     f"{'raised ' + moment['error'] if moment['error'] else 'returned ' + moment['got']}; "
                     "it should return a datetime")
    if not moment["aware"]:
        raise NotYet(f"the worker holds it for the right moment, but eight_tomorrow_in_shanghai() "
                     f"returned a naive datetime ({moment['iso']}, no time zone): right only "
                     "because the worker takes a naive value as UTC; make it aware")
    return f"the worker holds it due {shanghai(eta)} Shanghai time, eta {entry['eta']}"


def stale(ctx: Ctx) -> str:
    ctx.worker()
    stats = ctx.client().control.inspect(timeout=1).stats() or {}
    slots = sum(s["pool"]["max-concurrency"] for s in stats.values()) or 1
    found = ctx.python(AS_RESULT + textwrap.dedent(f"""
        from celery_task.busy_task import busy
        from celery_task.run_records import runs_of
        from celery.result import AsyncResult
        from celery_task.celery import app
        from exercises.ex2_stale import send_code

        def outcome(box, seconds):
            if box["id"]:
                result, deadline = AsyncResult(box["id"], app=app), time.monotonic() + seconds
                while not result.ready() and time.monotonic() < deadline:
                    time.sleep(0.05)
                box["state"], box["runs"] = result.state, len(runs_of(box["id"]))
                box["late"] = round(time.monotonic() - box.pop("sent"), 1)
            return box

        for _ in range({slots}):
            busy.delay(2.5)           # every worker process busy for 2.5 s
        sent = time.monotonic()
        old = as_result(call(send_code, "13800000000", "1111", limit=5))
        old["sent"] = sent
        old = outcome(old, 8)
        sent = time.monotonic()
        new = as_result(call(send_code, "13800000000", "2222", limit=5))
        new["sent"] = sent
        done(old=old, new=outcome(new, 5))
    """), timeout=30)
    old, new = found["old"], found["new"]
    returned_no_result('send_code("13800000000", "1111")', old)
    if old["state"] != "REVOKED" or old["runs"]:
        raise NotYet(f"with every worker process busy for 2.5 s, send_code's SMS ran "
                     f"{old['runs']} time{'s' * (old['runs'] != 1)} and ended {old['state']}, "
                     f"{old['late']} s after it was sent; a code is stale after 1 s: the worker "
                     "should drop it unrun (REVOKED)")
    returned_no_result('send_code("13800000000", "2222")', new)
    if new["state"] != "SUCCESS" or new["runs"] != 1:
        raise NotYet(f"with the worker free, send_code's SMS ran {new['runs']} "
                     f"time{'s' * (new['runs'] != 1)} and ended {new['state']}; it should run "
                     "at once: SUCCESS")
    return (f"busy worker: REVOKED after {old['late']} s, ran 0 times; "
            f"free worker: SUCCESS, ran 1 time")


CHECKS = {"ex1_tomorrow": tomorrow, "ex2_stale": stale}
