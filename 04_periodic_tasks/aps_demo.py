"""The in-process alternative the lesson mentions: APScheduler runs add(3, 5) on a cron trigger.

    python aps_demo.py                 run the job every second for 5 s
    python aps_demo.py --seconds 3

Written the way the lesson writes it: a BlockingScheduler, a job declared with
@scheduler.scheduled_job('cron', ...), and scheduler.start(), which blocks. No broker, no
worker, no beat: the scheduler runs in this process and calls the function right here; a
second job stops it after --seconds. Then it previews a few cron triggers, whose defaults
differ from Celery's.
"""

import argparse
import os
import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from celery_task.course_task import add  # the same task beat sends; here called directly

TZ = ZoneInfo("Asia/Shanghai")

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--seconds", type=int, default=5, help="how long to let the scheduler run")
args = parser.parse_args()

runs = []
lock = threading.Lock()
scheduler = BlockingScheduler(timezone=TZ)


@scheduler.scheduled_job("cron", second="*", id="add")  # the lesson's: ("cron", hour="8-23")
def job():
    value = add(3, 5)  # a direct call: runs here, in this process, like any function
    at = datetime.now().astimezone()  # this machine's clock, the one log lines use, and its zone
    with lock:
        runs.append(at)
        print(f"    {at:%H:%M:%S.%f}"[:-3] + f" {at:%Z}  add(3, 5) = {value}  "
              f"(run {len(runs)}, process {os.getpid()}, thread {threading.current_thread().name})")


@scheduler.scheduled_job("date", run_date=datetime.now(TZ) + timedelta(seconds=args.seconds))
def stop():
    scheduler.shutdown(wait=False)  # ends scheduler.start() below


print(f"[1] APScheduler, inside this process {os.getpid()}: add(3, 5) on "
      f"{scheduler.get_job('add').trigger}, for {args.seconds} s")
started = time.monotonic()
scheduler.start()  # blocks, as in the lesson, until stop() shuts the scheduler down
print(f"[2] {len(runs)} runs in {time.monotonic() - started:.1f} s. The scheduler stopped with "
      "this process: nothing was queued, nothing is left to run.")

print(f"[3] cron triggers do not mean the same thing in APScheduler and in Celery ({TZ.key} time):")
now = datetime.now(TZ)
examples = [
    ({"hour": "8-23"}, "(the lesson's job: on the hour, 16 times a day)"),
    ({"hour": 8, "day_of_week": "mon"}, "(once a Monday, at 08:00:00)"),
    ({"hour": 8, "day_of_week": 1}, "(TUESDAY: APScheduler counts mon=0, Celery sun=0)"),
]
for fields, meaning in examples:
    cron = CronTrigger(timezone=TZ, **fields)
    fires, previous = [], None
    for _ in range(2):
        previous = cron.get_next_fire_time(previous, previous or now)
        fires.append(f"{previous:%a %m-%d %H:%M}")
    print(f"    {str(cron):<34} {', '.join(fires)}  {meaning}")
print("    APScheduler sets the fields after the last one you give to their minimum (minute=0,")
print("    second=0); Celery's crontab sets every field you leave out to '*' (every minute).")
