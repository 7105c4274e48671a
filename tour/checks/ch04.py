"""Chapter 04's exercises (04_periodic_tasks/exercises/): the crontab is asked the way beat
asks it (preview.py's method); the beat entry runs on a real beat and a real worker."""

import json
import re
import time

from ..exercises import Ctx, NotYet

# preview.py's fire_times(): beat's own question, is_due(last_run_at), on a pretend clock.
FIRE_TIMES = """
import copy
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

def fire_times(schedule, start, until, most=1000):
    clock = {"now": start}
    schedule = copy.copy(schedule)
    schedule.nowfun = lambda: clock["now"]
    last_run_at, fires = start, []
    while clock["now"] <= until and len(fires) < most:
        due, next_check = schedule.is_due(last_run_at)
        if due:
            fires.append(clock["now"])
            last_run_at = clock["now"]
        clock["now"] += timedelta(seconds=max(next_check, 0.001))
    return fires
"""


def weekdays(ctx: Ctx) -> str:
    found = ctx.python(FIRE_TIMES + """
from celery.schedules import crontab
from celery_task.celery import app
from exercises.ex1_weekdays import WEEKDAYS_AT_0830 as schedule
if not isinstance(schedule, crontab):
    done(kind=type(schedule).__name__, text=repr(schedule)[:80])
shanghai = ZoneInfo("Asia/Shanghai")
start = datetime(2026, 11, 29, 12, 0, tzinfo=shanghai)   # a Sunday noon: one whole week after it
fires = fire_times(schedule, start, start + timedelta(days=7))
done(kind="crontab", text=str(schedule),
     fires=[t.astimezone(shanghai).strftime("%a %H:%M:%S") for t in fires])
""", timeout=30)
    if found["kind"] != "crontab":
        raise NotYet(f"WEEKDAYS_AT_0830 is a {found['kind']} ({found['text']}), not a crontab")
    fires = found["fires"]
    wanted = [f"{day} 08:30:00" for day in ("Mon", "Tue", "Wed", "Thu", "Fri")]
    if fires == wanted:
        return f"{found['text']}: 5 fires a week, {fires[0]}, ... {fires[-1]} (Shanghai time)"
    count = f"{len(fires)}{' or more' if len(fires) >= 1000 else ''}"
    shown = ", ".join(fires[:3]) + (f", ... {fires[-1]}" if len(fires) > 3 else "")
    order = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    days = {fire[:3] for fire in fires}
    extra = [day for day in order if day in days and day not in order[:5]]
    missing = [day for day in order[:5] if day not in days]
    why = "; ".join(([f"also on {', '.join(extra)}"] if extra else [])
                    + ([f"never on {', '.join(missing)}"] if missing else []))
    why = f" ({why})" if why else ""
    raise NotYet(f"{found['text']} fires {count} times in a week{why}: {shown or 'never'}; "
                 "it should fire 5 times, Mon to Fri at 08:30:00 (Shanghai time)")


def beat_entry(ctx: Ctx) -> str:
    name = "exercises.ex2_beat_entry.report_queue"
    entries = ctx.python("""
        from celery_task.celery import app
        import exercises.ex2_beat_entry
        done(entries={key: str(entry.get("task")) for key, entry in app.conf.beat_schedule.items()})
    """)["entries"]
    mine = [key for key, task in entries.items() if task == name]
    if not mine:
        raise NotYet(f"no entry of app.conf.beat_schedule sends {name} (it has "
                     f"{len(entries)}: {', '.join(entries)})")
    worker = ctx.worker()
    since = worker.mark()
    beat = ctx.process("beat", app="exercises.ex2_beat_entry")
    backend = ctx.redis("backend")
    started = time.time()
    runs = []
    # two runs tell how far apart; a schedule of 2 s gives them 2 s and 4 s after beat starts
    while time.time() - started < 6.5 and len(runs) < 2:
        time.sleep(0.1)
        runs = [run for run in map(json.loads, backend.lrange(f"runs:{name}", 0, -1))
                if run["at"] >= started]
    sent = beat.count(rf"Sending due task {re.escape(mine[0])} ")
    if not runs:
        refused = re.findall(rf"Couldn't apply scheduled task {re.escape(mine[0])}: (.*)", beat.output())
        failed = re.findall(rf"{re.escape(name)}\[[^\]]+\] raised unexpected: (.*)", worker.output(since))
        ran = (f"; beat says: {refused[-1][:120]}" if refused else
               f"; the worker says: {failed[-1][:120]}" if failed else "")
        raise NotYet(f"beat {'tried to send' if refused else 'sent'} entry {mine[0]!r} {sent} "
                     f"time{'s' * (sent != 1)} in "
                     f"{time.time() - started:.1f} s, and report_queue never ran{ran}")
    args = runs[0]["args"]
    if args != ["celery"]:
        raise NotYet(f"report_queue ran with the arguments {args}; it should get ('celery',)")
    apart = [round(b["at"] - a["at"], 1) for a, b in zip(runs, runs[1:])]
    if any(gap < 1.4 for gap in apart):
        raise NotYet(f"report_queue ran {len(runs)} times in {time.time() - started:.1f} s, "
                     f"{' s, '.join(map(str, apart))} s apart; it should run every 2 s")
    if len(runs) < 2 or any(gap > 2.7 for gap in apart):
        raise NotYet(f"report_queue ran {len(runs)} time{'s' * (len(runs) != 1)} in "
                     f"{time.time() - started:.1f} s"
                     + (f", {' s, '.join(map(str, apart))} s apart" if apart else "")
                     + "; it should run every 2 s")
    return (f"beat sent {mine[0]!r}, the worker ran report_queue('celery') {len(runs)} times, "
            f"{' s, '.join(map(str, apart))} s apart")


CHECKS = {"ex1_weekdays": weekdays, "ex2_beat_entry": beat_entry}
