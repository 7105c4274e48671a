"""Exercise 1: send an SMS due at 08:00 tomorrow, Shanghai time, with an aware datetime.

Goal: `eight_tomorrow_in_shanghai()` returns the moment 08:00 tomorrow on a Shanghai clock
("tomorrow" as Shanghai counts days), as an aware datetime (it carries its time zone), and
`send_morning_sms(mobile, code)` sends send_sms with that moment as its eta and returns
what apply_async returns.

The check calls send_morning_sms("13800000000", "0800") and asks the worker for the task it
holds (`celery -A celery_task inspect scheduled`): its eta must be that moment. It also
calls eight_tomorrow_in_shanghai() and looks at its tzinfo. A naive datetime(..., 8, 0)
is read by the worker as 08:00 UTC, which is 16:00 in Shanghai (section 2 of the README).
Look up zoneinfo.ZoneInfo and datetime.combine / datetime.replace.
(A real app would keep "tomorrow 08:00" in its database rather than in an eta: section 6.)
"""

from datetime import datetime, timedelta, timezone

from celery_task import user_task


def eight_tomorrow_in_shanghai():
    # TODO: 08:00 tomorrow on a Shanghai clock, aware (this is "in 50 seconds", in UTC)
    return datetime.now(timezone.utc) + timedelta(seconds=50)


def send_morning_sms(mobile, code):
    return user_task.send_sms.apply_async(args=(mobile, code), eta=eight_tomorrow_in_shanghai())
