"""The Redis visibility-timeout trap, live: one delayed SMS, delivered and run several times.

    python visibility_trap.py                  countdown 8 s
    python visibility_trap.py --countdown 20

It sends the same send_sms, with the same countdown, through the two apps of
visibility_apps.py, whose workers must be running (see the README):
    celery -A visibility_apps:short worker -l info -P solo     visibility_timeout 2 s
    celery -A visibility_apps:fixed worker -l info -P solo     visibility_timeout 12 h
and counts how many times each one ran.
"""

import argparse
import sys
import time
from datetime import datetime

from celery_task.run_records import runs_of
from celery_task.user_task import send_sms
from clocks import clock
from redis_check import require_redis
from visibility_apps import fixed, short

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--countdown", type=float, default=8, help="seconds until the SMS is due")
args = parser.parse_args()

require_redis(short)
apps = [("short", short), ("fixed", fixed)]
for name, app in apps:
    if not app.control.ping(timeout=2, limit=1):
        sys.exit(f"[!] no worker of the '{name}' app answered. Start it in another terminal: "
                 f"celery -A visibility_apps:{name} worker -l info -P solo")

sent = []
for number, (name, app) in enumerate(apps, start=1):
    timeout = app.conf.broker_transport_options["visibility_timeout"]
    result = app.send_task(send_sms.name, args=("13800000000", "5202"),
                           countdown=args.countdown)
    sent.append((name, timeout, result))
    print(f"[{number}] sent send_sms with countdown={args.countdown:g} through the '{name}' app "
          f"(visibility_timeout {timeout} s) -> id {result.id}")

until = time.time() + args.countdown + 3
print(f"[3] both are due in {args.countdown:g} s; waiting until {clock(until)} (3 s more), "
      "then counting the runs")
while time.time() < until:
    time.sleep(0.1)

print("[4] how many times did each SMS go out?")
counts = {}
for name, timeout, result in sent:
    runs = runs_of(result.id)
    counts[name] = len(runs)
    again = sum(run["redelivered"] for run in runs)
    line = f"    {name}: visibility_timeout {timeout:>5} s -> ran {len(runs)} time{'s' * (len(runs) != 1)}"
    if runs:
        due = datetime.fromisoformat(runs[0]["eta"]).timestamp()
        late = [(run["started"] - due) * 1000 for run in runs]
        spread = f"{min(late):.0f}" if len(runs) == 1 else f"{min(late):.0f}-{max(late):.0f}"
        line += (f" (1 delivery + {again} redeliveries), due {clock(due)}, "
                 f"started {spread} ms after that")
    print(line)
print(f"[5] the short app's customer got the same SMS {counts['short']} times, the fixed app's "
      f"{counts['fixed']} time{'s' * (counts['fixed'] != 1)}.")
print("    A worker acknowledges a delayed task only when it runs it. Until then the message sits")
print("    in Redis as taken but unfinished; once visibility_timeout has passed, a worker's kombu")
print("    puts it back in the queue and a worker takes it again: every copy waits for the same")
print("    due time, then every copy runs.")
