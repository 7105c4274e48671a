"""The app of chapter 04 and its beat schedule: the lesson's celery.py, with its mistakes fixed.

    celery -A celery_task worker -l info     runs the tasks
    celery -A celery_task beat -l info       sends them when they are due (run ONE beat, ever)

This file must be called celery.py for `-A celery_task` to find `app` in the package.
"""

import os
from datetime import timedelta

from celery import Celery
from celery.schedules import crontab

# REDIS_URL says where Redis runs; each chapter adds its own database numbers.
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
BROKER_URL = f"{REDIS_URL}/7"   # the queue that beat fills and the worker empties
BACKEND_URL = f"{REDIS_URL}/8"  # results, and the run records of this chapter

app = Celery("celery_task", broker=BROKER_URL, backend=BACKEND_URL, include=[
    "celery_task.user_task",    # send_sms
    "celery_task.order_task",   # make_order
    "celery_task.course_task",  # add
])
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    result_expires=3600,
    broker_connection_retry_on_startup=True,  # worker and beat started before Redis wait for it
    redis_socket_connect_timeout=3,
)

# Time zone. `timezone` is what makes crontab(hour=8) mean 08:00 on a Shanghai clock. The lesson
# also sets enable_utc = False; that is not needed (`python preview.py` shows crontab fires at
# the same moment either way) and True, the default, keeps every stored time in UTC.
app.conf.timezone = "Asia/Shanghai"
app.conf.enable_utc = True

# What beat sends, and when. The lesson's names said "every 5 seconds" for a 3 s schedule, and
# "every 1 second" for a crontab; each name here says what its schedule does.
app.conf.beat_schedule = {
    "add_every_1_second": {
        "task": "celery_task.course_task.add",
        "schedule": timedelta(seconds=1),
        "args": (1, 2),
    },
    "send_sms_every_3_seconds": {
        "task": "celery_task.user_task.send_sms",
        "schedule": timedelta(seconds=3),
        "args": ("13800000000", "5202"),
    },
    "make_order_every_5_seconds": {
        "task": "celery_task.order_task.make_order",
        "schedule": timedelta(seconds=5),   # the lesson had 3 here, under a "5 seconds" name
    },
    "add_every_monday_at_8": {
        "task": "celery_task.course_task.add",
        # minute=0 matters: the lesson's crontab(hour=8, day_of_week=1) fires at EVERY minute
        # from 08:00 to 08:59, 60 times each Monday (`python preview.py` counts them).
        "schedule": crontab(minute=0, hour=8, day_of_week=1),
        "args": (3, 5),
    },
}

