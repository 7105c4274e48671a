"""The banner refresh as a row of django-celery-beat's PeriodicTask table, every
settings.BANNER_REFRESH_SECONDS (whole seconds: an IntervalSchedule counts in integers).

Idempotent: get_or_create, so running it on a database that has the row already (or
migrating back and forth) leaves an interval edited in the admin alone. It also marks the
schedule as changed (PeriodicTasks.last_update), the way saving a PeriodicTask in the admin
does: a migration uses historical models, whose save() sends no signal a running beat
would see."""

from django.conf import settings
from django.db import migrations
from django.utils import timezone

NAME = "refresh-banner-cache"


def create_refresh_task(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    every = max(1, round(settings.BANNER_REFRESH_SECONDS))
    interval, _ = IntervalSchedule.objects.get_or_create(every=every, period="seconds")
    PeriodicTask.objects.get_or_create(
        name=NAME,
        defaults={"task": "home.tasks.refresh_banner_cache", "interval": interval,
                  "description": "Rewrite the cached banner list from the database."})
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def remove_refresh_task(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("home", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create_refresh_task, remove_refresh_task)]
