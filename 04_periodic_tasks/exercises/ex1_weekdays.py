"""Exercise 1: a crontab for "every weekday at 08:30", Shanghai time.

Goal: WEEKDAYS_AT_0830 is a crontab that fires at 08:30 on Monday, Tuesday, Wednesday,
Thursday and Friday (on the app's clock, Asia/Shanghai), once each day, and never on
Saturday or Sunday.

The check asks your schedule the way beat does, the way `python preview.py` does
(is_due() with a pretend clock moving forward), over one whole week: it must fire exactly
5 times, each at 08:30:00, Monday to Friday. Look up crontab's fields in Celery's
"Periodic Tasks" guide, and remember what a field you leave out means (section "The
schedule" of the README).
"""

from celery.schedules import crontab

from celery_task.celery import app

# TODO: every weekday at 08:30 (as shipped: the lesson's mistake, every minute of 08:xx)
WEEKDAYS_AT_0830 = crontab(hour=8, app=app)
