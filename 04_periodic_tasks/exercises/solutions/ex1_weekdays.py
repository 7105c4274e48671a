"""Exercise 1, a solution: every field named. minute=30 and hour=8 give one moment a day
(a minute left out would be "every minute"), day_of_week="mon-fri" (or "1-5": Sunday is
0) keeps the weekdays. app=app makes it read the app's clock, Asia/Shanghai."""

from celery.schedules import crontab

from celery_task.celery import app

WEEKDAYS_AT_0830 = crontab(minute=30, hour=8, day_of_week="mon-fri", app=app)
