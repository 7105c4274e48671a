"""Exercise 1, a solution: today's date is read on the Shanghai clock (it may already be
tomorrow there), one day added, and 08:00 on that date built with tzinfo=ZoneInfo(...), so
the datetime says which clock it means: the worker reads it as 00:00 UTC, 08:00 in
Shanghai. No utcnow(), no naive value left for the worker to guess about."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from celery_task import user_task

SHANGHAI = ZoneInfo("Asia/Shanghai")


def eight_tomorrow_in_shanghai():
    tomorrow = datetime.now(SHANGHAI).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(8, 0), tzinfo=SHANGHAI)


def send_morning_sms(mobile, code):
    return user_task.send_sms.apply_async(args=(mobile, code), eta=eight_tomorrow_in_shanghai())
