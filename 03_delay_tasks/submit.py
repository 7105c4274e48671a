"""Send the lesson's send_sms three ways: now (delay), after a countdown, at an eta.

    python submit.py                          the lesson's delay: 50 s
    python submit.py --seconds 3              a 3 s delay
    python submit.py --seconds 12 --no-wait    send and exit: the worker holds the delayed tasks

Then it waits for the runs and prints, for each, when it was due, when it really started,
and how late that was (each run is recorded in Redis by the task itself).
"""

import argparse
import time
from datetime import datetime, timedelta, timezone

from celery.exceptions import TimeoutError as ResultTimeout

from celery_task.celery import app
from celery_task.run_records import runs_of
from celery_task.user_task import send_sms
from clocks import clock
from last_id import save_last_id
from redis_check import require_redis

MOBILE, CODE = "13800000000", "5202"


parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--seconds", type=float, default=50, help="the delay in seconds (default: 50, as in the lesson)")
parser.add_argument("--no-wait", action="store_true", help="send the tasks and exit")
args = parser.parse_args()
seconds = args.seconds

require_redis(app)  # one clear line instead of a traceback if Redis is down

# [1] An aware datetime carries its time zone; Celery turns it into UTC for the message.
now = datetime.now(timezone.utc)
offset = now.astimezone().strftime("%z")
print(f"[1] it is now {clock(now)} (local time, UTC{offset[:3]}:{offset[3:]}); "
      "all times below are local")

sent_at = time.time()
immediate = send_sms.delay(MOBILE, CODE)  # delay(*args) == apply_async(args=args): run now
counted_at = time.time()
counted = send_sms.apply_async(args=(MOBILE, CODE), countdown=seconds)  # "in N seconds"
eta = datetime.now(timezone.utc) + timedelta(seconds=seconds)  # aware: never datetime.utcnow()
timed = send_sms.apply_async(args=(MOBILE, CODE), eta=eta)           # "at this moment"

sent = [
    ("delay()", f"send_sms.delay({MOBILE!r}, {CODE!r})", immediate, "as soon as a worker is free"),
    (f"countdown={seconds:g}", f"send_sms.apply_async(args=(...), countdown={seconds:g})", counted,
     f"due {clock(counted_at + seconds)}"),
    (f"eta=now + {seconds:g} s", f"send_sms.apply_async(args=(...), eta=now + {seconds:g} s)", timed,
     f"due {clock(eta)}"),
]
for number, (_, how, result, due) in enumerate(sent, start=2):
    print(f"[{number}] sent {how:<50} -> id {result.id}  {due}")
print("    eta = datetime.now(timezone.utc) + timedelta(seconds=...): an aware datetime")
save_last_id(timed.id)
print("[5] saved the eta task's id in .last_task_id (for `python revoke.py`)")

if args.no_wait:
    print("[6] not waiting (--no-wait). The worker has already taken both delayed tasks and keeps")
    print("    them in memory until they are due: `celery -A celery_task inspect scheduled` lists them")
    raise SystemExit(0)

limit = seconds + 20
print(f"[6] waiting for the three runs (at most {limit:g} s; the delayed ones are due in {seconds:g} s)")
for label, _, result, _ in sent:
    try:
        result.get(timeout=max(sent_at + limit - time.time(), 1))
    except ResultTimeout:
        raise SystemExit(
            f"[!] {label} has not run {limit:g} s after it was sent. Is a worker running in this "
            "folder (celery -A celery_task worker -l info), against the same REDIS_URL?")

print(f"    {'how':<16} {'due':<13} {'started':<13} {'late by':>8}")
for label, _, result, _ in sent:
    runs = runs_of(result.id)
    run = runs[0]
    due = datetime.fromisoformat(run["eta"]).timestamp() if run["eta"] else sent_at
    late_ms = (run["started"] - due) * 1000
    times = "" if len(runs) == 1 else f"  (ran {len(runs)} times!)"
    print(f"    {label:<16} {clock(due):<13} {clock(run['started']):<13} {late_ms:>5.0f} ms{times}")
print("    a delayed task starts when it is due, not before; a few ms late when the worker is idle")
