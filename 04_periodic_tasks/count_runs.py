"""Count what beat and the worker really did: the runs each task recorded, over a time window.

    python count_runs.py                 watch for 10 s
    python count_runs.py --seconds 6

Needs a worker and ONE beat running in this folder (see the README).
"""

import argparse
import sys
import time
from datetime import timedelta

from celery.schedules import maybe_schedule

from celery_task.celery import app
from celery_task.run_records import runs_of
from redis_check import require_redis

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--seconds", type=float, default=10, help="how long to watch (default 10)")
args = parser.parse_args()

require_redis(app)
if not app.control.ping(timeout=1, limit=1):
    sys.exit("[!] no worker answered. Start one in this folder: celery -A celery_task worker -l info")

start = time.time()
print(f"[1] counting the runs recorded from now on, for {args.seconds:g} s ...")
while time.time() - start < args.seconds:
    app.backend.client.ping()  # Redis still there? If it goes away: one [!] line, not 10 s later
    time.sleep(0.2)
end = time.time()

print(f"[2] runs in those {end - start:.1f} s, per beat_schedule entry:")
total, off = 0, []
for name, entry in app.conf.beat_schedule.items():
    schedule = maybe_schedule(entry["schedule"], app=app)
    wanted = list(entry.get("args", ()))
    runs = [run for run in runs_of(app, entry["task"], since=start)
            if run["at"] < end and run["args"] == wanted]
    total += len(runs)
    if isinstance(entry["schedule"], timedelta):
        every = entry["schedule"].total_seconds()
        about = (end - start) / every
        expected = f"about {about:.0f} (one per {every:g} s)"
        # one more or one fewer at the edges of the window is the schedule; more is not
        if abs(len(runs) - about) > 1 + about / 10:
            off.append((name, len(runs), about))
    else:
        expected = f"0 unless a fire time falls in the window ({schedule})"
    offsets = ", ".join(f"+{run['at'] - start:.1f}" for run in runs[:8])
    offsets += ", ..." if len(runs) > 8 else ""
    print(f"    {name:<27} ran {len(runs):>2}   expected {expected}"
          + (f"   at {offsets} s" if runs else ""))
if not total:
    sys.exit(f"[!] nothing ran in {args.seconds:g} s. Is beat running in this folder "
             "(celery -A celery_task beat -l info), against the same REDIS_URL?")
if off:
    name, ran, about = max(off, key=lambda item: abs(item[1] - item[2]))
    if ran > about:
        sys.exit(f"[!] the counts do not follow the schedule: {name} ran {ran} times, expected "
                 f"about {about:.0f} ({ran / about:.1f}x). Is more than one beat running? "
                 "Stop all but one.")
    sys.exit(f"[!] the counts do not follow the schedule: {name} ran {ran} times, expected "
             f"about {about:.0f}. Is the worker busy, or did beat start during the window?")
print("    beat sent them and the worker ran them: the counts follow the schedule, give or take")
print("    one at the edges of the window")
