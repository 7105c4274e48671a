"""How a worker reads an eta, depending on how you built the datetime. Nothing is sent.

    python naive_eta.py

For four ways of writing "50 seconds from now" it builds the real task message Celery would
send, and reads its eta back the way the worker does. In Celery's source: the producer
writes the datetime into the message as it is, `eta.isoformat()`, aware or naive
(celery/app/amqp.py, as_task_v2); the worker parses it and calls maybe_make_aware()
(celery/worker/request.py), which takes a naive value as UTC (celery/utils/time.py).
"""

import re
import warnings
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from celery.utils.time import maybe_iso8601, maybe_make_aware
from kombu.utils.uuid import uuid

from celery_task.celery import app

DELAY = timedelta(seconds=50)


def lesson_utcnow():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = datetime.utcnow()  # the lesson's call (deprecated since Python 3.12)
    return value, caught


def as_worker_reads_it(eta):
    """The eta text inside the message, and the moment a worker makes of it."""
    message = app.amqp.as_task_v2(uuid(), "celery_task.user_task.send_sms", args=("13800000000", "5202"), eta=eta)
    text = message.headers["eta"]
    return text, maybe_make_aware(maybe_iso8601(text), app.conf.timezone)  # naive -> read as UTC


def in_words(seconds):
    seconds = round(seconds)
    hours, rest = divmod(abs(seconds), 3600)
    text = f"{hours} h {rest // 60} min {rest % 60} s" if hours else f"{seconds} s"
    return text if seconds >= 0 else f"{text} AGO: it runs at once"


utc_now, warned = lesson_utcnow()
local = datetime.now().astimezone()
offset = local.strftime("%z")
here = f"UTC{offset[:3]}:{offset[3:]}"
shanghai_wall_clock = datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)

rows = [
    ("datetime.now(timezone.utc) + 50 s", "aware", datetime.now(timezone.utc) + DELAY),
    ("datetime.utcnow() + 50 s", "naive (the lesson)", utc_now + DELAY),
    ("datetime.now() + 50 s", f"naive, here ({here})", datetime.now() + DELAY),
    ("datetime.now() + 50 s", "naive, in Shanghai", shanghai_wall_clock + DELAY),
]
now = datetime.now(timezone.utc)
print("[1] four ways to say 'in 50 seconds', and when the worker will really run the task:")
for number, (code, kind, eta) in enumerate(rows, start=1):
    text, seen = as_worker_reads_it(eta)
    shown = re.sub(r"\.(\d{3})\d{3}", r".\1", text)  # microseconds -> milliseconds
    print(f"    {code:<34} {kind:<24} eta in the message {shown:<29}  -> runs in "
          f"{in_words((seen - now).total_seconds())}")
print("[2] a naive datetime (no tzinfo) does not say which clock it was read from; the worker")
print("    takes it as UTC. utcnow() happens to give UTC, so the lesson's eta works, but only by")
print("    convention; datetime.now() on a server set to Shanghai time is read 8 hours late.")
if warned:
    print(f"[3] this Python warns about the lesson's call: {warned[0].category.__name__}: "
          f"{str(warned[0].message).split('. ')[0]}.")
else:
    print("[3] Python 3.12 and newer deprecate datetime.utcnow() for this reason (this Python")
    print("    is older and stays quiet).")
print("    Build an eta from an aware datetime: datetime.now(timezone.utc) + timedelta(...)")
