"""The banner refresh's schedule: a row of django-celery-beat's PeriodicTask table, created
by home/migrations/0002_refresh_banner_schedule.py from settings.BANNER_REFRESH_SECONDS and
edited in the admin from then on. The commands read the interval from there."""

from django.conf import settings
from django.db import DatabaseError
from django_celery_beat.models import PeriodicTask

REFRESH_TASK = "refresh-banner-cache"


def refresh_task():
    return PeriodicTask.objects.select_related("interval").get(name=REFRESH_TASK)


def refresh_every():
    """Seconds between beat's refreshes as the database has them now (the setting's value
    where there is no such row yet)."""
    try:
        task = refresh_task()
    except (PeriodicTask.DoesNotExist, DatabaseError):
        return settings.BANNER_REFRESH_SECONDS
    if task.interval is None:  # a crontab or another schedule chosen in the admin
        return settings.BANNER_REFRESH_SECONDS
    return task.interval.schedule.run_every.total_seconds()
