"""The Celery app of the Django project, written the way Celery's documentation shows
("First steps with Django"). The worker and beat load it with `celery -A luffy_api ...`.

1. DJANGO_SETTINGS_MODULE is set *before* the app is created: Celery's Django support then
   calls django.setup() in the worker for you (ORM, cache and settings work inside tasks),
   and closes stale database connections around each task.
2. Every setting whose name starts with CELERY_ in luffy_api/settings.py configures Celery
   (CELERY_BROKER_URL -> broker_url, CELERY_BEAT_SCHEDULE -> beat_schedule, ...).
3. autodiscover_tasks() imports tasks.py of every installed app (home/tasks.py here), so
   tasks are written with @shared_task and never import this module.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "luffy_api.settings")

app = Celery("luffy_api")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
