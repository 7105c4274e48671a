"""The app of chapter 03: tasks that run later (countdown, eta), expire, or are called off.

    celery -A celery_task worker -l info

This file must be called celery.py for `-A celery_task` to find `app` in the package. The
settings (Redis databases 5 and 6, JSON only, a visibility timeout of 12 h) are in
../celeryconfig.py.
"""

from celery import Celery

app = Celery("celery_task", include=[
    "celery_task.user_task",    # send_sms, the lesson's delayed task
    "celery_task.order_task",   # make_order
    "celery_task.busy_task",    # busy: keeps a worker process occupied (expires.py)
])
app.config_from_object("celeryconfig")
