"""When will beat send each task? Asked of Celery's own schedule objects, nothing is sent.

    python preview.py              the next 3 fire times of every beat_schedule entry
    python preview.py --count 5

It also counts how often the lesson's crontab(hour=8, day_of_week=1) fires in a week, and
shows one crontab under four time zone settings.

How: beat asks each entry `schedule.is_due(last_run_at)` and gets back (due?, seconds until
the next check). This script asks the very same question while moving a pretend clock
forward, so the times below are the ones beat would use.
"""

import argparse
import copy
from datetime import timedelta
from zoneinfo import ZoneInfo

from celery import Celery
from celery.schedules import crontab, maybe_schedule

from celery_task.celery import app

SHANGHAI = ZoneInfo("Asia/Shanghai")


def fire_times(schedule, start, *, count=None, until=None):
    """The moments `schedule` fires after `start`, found the way beat finds them."""
    clock = {"now": start}
    schedule = copy.copy(schedule)              # leave the app's own entry alone
    schedule.nowfun = lambda: clock["now"]      # the schedule reads our pretend clock
    last_run_at, fires = start, []
    while (count is None or len(fires) < count) and (until is None or clock["now"] <= until):
        due, next_check = schedule.is_due(last_run_at)
        if due:
            fires.append(clock["now"])
            last_run_at = clock["now"]
        clock["now"] += timedelta(seconds=max(next_check, 0.001))
    return fires


def when(moment, tz=app.timezone):
    """A fire time on the app's clock: Mon 11-30 08:00:00."""
    return moment.astimezone(tz).strftime("%a %m-%d %H:%M:%S")


parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--count", type=int, default=3, help="fire times to show per entry")
args = parser.parse_args()

now = app.now()  # an aware datetime on the app's clock (timezone = Asia/Shanghai)
print(f"[1] it is {now:%a %Y-%m-%d %H:%M:%S} in {app.conf.timezone}, the app's timezone "
      f"(enable_utc={app.conf.enable_utc})")
local = now.astimezone()  # the same moment on this machine's clock, the one log lines use
print(f"    = {local:%a %Y-%m-%d %H:%M:%S} {local:%Z} on this machine's clock (worker and beat "
      "log lines)")

print(f"[2] the next {args.count} times beat sends each entry of beat_schedule "
      f"({app.conf.timezone} time):")
for name, entry in app.conf.beat_schedule.items():
    schedule = maybe_schedule(entry["schedule"], app=app)  # timedelta -> celery.schedules.schedule
    times = ", ".join(when(t) for t in fire_times(schedule, now, count=args.count))
    print(f"    {name:<27} {str(schedule):<36} {times}")

print(f"[3] \"every Monday at 8\": how many times does each crontab fire in the coming week "
      f"({app.conf.timezone} time)?")
week = now + timedelta(days=7)
for label, schedule in (("the lesson", crontab(hour=8, day_of_week=1, app=app)),
                        ("fixed", crontab(minute=0, hour=8, day_of_week=1, app=app))):
    fires = fire_times(schedule, now, until=week)
    shown = ", ".join(t.astimezone(app.timezone).strftime("%H:%M") for t in fires[:3])
    more = f", ... {fires[-1].astimezone(app.timezone):%H:%M}" if len(fires) > 3 else ""
    print(f"    {str(schedule):<36} {'(' + label + ')':<12} {len(fires):>2} Monday "
          f"fire{'s' * (len(fires) != 1)}: {fires[0]:%a} {shown}{more}")
print("    a field left out of crontab() means 'every': the lesson's minute is '*', so it fires at")
print("    08:00, 08:01, ... 08:59. Name the minute: crontab(minute=0, hour=8, day_of_week=1).")

print("[4] crontab(minute=0, hour=8, day_of_week=1) under four settings, on a Shanghai clock:")
settings = [("Asia/Shanghai", True, "this app"), ("Asia/Shanghai", False, "the lesson"),
            (None, True, "Celery's default"), (None, False, "")]
for tz, utc, label in settings:
    other = Celery(set_as_current=False)
    other.conf.timezone, other.conf.enable_utc = tz, utc
    first = fire_times(crontab(minute=0, hour=8, day_of_week=1, app=other), other.now(), count=1)[0]
    offset = first.utcoffset()
    hours, minutes = divmod(abs(int(offset.total_seconds())) // 60, 60)
    utc_offset = f"UTC{'-' if offset < timedelta(0) else '+'}{hours:02}:{minutes:02}"
    clock = "" if tz else (" = 08:00 UTC" if utc else f" = 08:00 on this machine's clock ({utc_offset})")
    setting = f"timezone={tz!r}, enable_utc={utc}"
    print(f"    {setting:<44} {label:<17} -> {when(first, SHANGHAI)}{clock}")
print("    `timezone` picks the clock crontab reads. Once it is set, enable_utc=False does not move")
print("    a single fire; without it, the schedule follows the clock of whichever machine runs beat.")
