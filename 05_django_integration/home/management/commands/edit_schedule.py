"""python manage.py edit_schedule 2: change how often beat refreshes the banner cache, in the
Django admin, over HTTP, while beat runs; then measure, from the cache, the interval before
and after and how soon the change took effect. Nobody restarts beat.

It does what you would do at http://127.0.0.1:8000/admin/: log in, open Periodic tasks ->
refresh-banner-cache, pick another interval in "Interval Schedule" (adding it with the +
first when there is none), Save. The refresh times come from the cached list itself: each
refresh by the worker stores filled_by="beat" and filled_at (home/banners.py)."""

import secrets
import time

from django.conf import settings
from django.contrib.auth.models import Permission, User
from django.core.cache import cache
from django.core.management.base import BaseCommand
from django.db import DatabaseError
from django_celery_beat.models import IntervalSchedule, PeriodicTask, PeriodicTasks
from django_celery_beat.schedulers import DEFAULT_MAX_INTERVAL

from home.management.admin_session import AdminSession
from home.management.redis_check import require_redis
from home.schedule import REFRESH_TASK, refresh_task
from luffy_api.celery import app

EDITOR = "schedule-editor"
RIGHTS = ["view_periodictask", "change_periodictask", "view_intervalschedule",
          "add_intervalschedule"]
BEAT_HINT = ("Are beat (celery -A luffy_api beat -l info) and the worker running, against the "
             "same REDIS_URL and DJANGO_DB_PATH?")


def editor_with_password():
    """A staff user for this run: it may change schedules and nothing else, and gets a new
    random password (no password is written down anywhere; the last step spoils it)."""
    user, _ = User.objects.update_or_create(
        username=EDITOR, defaults={"is_staff": True, "is_superuser": False, "is_active": True})
    user.user_permissions.set(Permission.objects.filter(
        content_type__app_label="django_celery_beat", codename__in=RIGHTS))
    password = secrets.token_urlsafe(16)
    user.set_password(password)
    user.save()
    return user, password


def next_refresh(after, timeout):
    """filled_at of the first refresh by beat later than `after` (a time.time())."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        entry = cache.get(settings.BANNER_CACHE_KEY)
        if entry and entry["filled_by"] == "beat" and entry["filled_at"] > after + 0.01:
            return entry["filled_at"]
        time.sleep(0.05)
    raise SystemExit(f"[!] no refresh by beat within {timeout:g} s. {BEAT_HINT}")


def beat_wrote_back(after, timeout):
    """When beat saved the task's row (its date_changed) after `after`, a time.time(): beat
    writes its run count and last run back to the row whenever it reloads the schedule."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        changed = refresh_task().date_changed.timestamp()
        if changed > after:
            return changed
        time.sleep(0.05)
    raise SystemExit(f"[!] beat did not reload the schedule within {timeout:g} s. {BEAT_HINT}")


def last_refresh(timeout):
    """filled_at of the refresh by beat in the cache now, or of the next one."""
    entry = cache.get(settings.BANNER_CACHE_KEY)
    if entry and entry["filled_by"] == "beat":
        return entry["filled_at"]
    return next_refresh(0, timeout)


class Command(BaseCommand):
    help = "Change the banner refresh's interval in the admin while beat runs; measure the effect."

    def add_arguments(self, parser):
        parser.add_argument("seconds", type=int, help="the new interval, in whole seconds")

    def handle(self, *args, seconds, **options):
        require_redis(app)
        if seconds < 1:
            raise SystemExit("[!] the interval is a whole number of seconds, 1 or more")
        try:
            task = refresh_task()
        except (DatabaseError, PeriodicTask.DoesNotExist):
            raise SystemExit(f"[!] no periodic task {REFRESH_TASK!r} in the database: run "
                             "python manage.py migrate (its migration home.0002 makes it)")
        if task.interval is None:
            raise SystemExit(f"[!] {REFRESH_TASK} runs on a {task.scheduler._meta.verbose_name}, "
                             "not an interval: choose an interval for it in the admin first")
        old = task.interval.schedule.run_every.total_seconds()
        print(f"[1] in the database: {task.name} runs {task.task} every {old:g} s")
        if task.interval.every == seconds and task.interval.period == IntervalSchedule.SECONDS:
            raise SystemExit(f"[!] it runs every {seconds} s already: give another number")

        user, password = editor_with_password()
        session = AdminSession()
        session.log_in(user.username, password)
        print(f"[2] logged in to {settings.SITE_URL}/admin/ as {user.username}: a staff user made")
        print("    for this run, with a random password, allowed to change schedules and nothing else")

        print("[3] beat's refreshes, from the cache (filled_by=beat):")
        first = last_refresh(old + 10)
        second = next_refresh(first, old + 10)
        print(f"    {second - first:5.2f} s between two refreshes: every {old:g} s, as the "
              "database says")

        interval = IntervalSchedule.objects.filter(every=seconds, period="seconds").first()
        if interval is None:
            _, _, said = session.submit("/admin/django_celery_beat/intervalschedule/add/",
                                        {"every": seconds, "period": "seconds", "_save": "Save"})
            interval = IntervalSchedule.objects.get(every=seconds, period="seconds")
            print(f"[4] admin: Intervals -> Add: {said}")
        else:
            print(f"[4] admin: the interval '{interval}' is there already")
        path = f"/admin/django_celery_beat/periodictask/{task.pk}/change/"
        changes_before = PeriodicTasks.last_change()
        status, _, said = session.submit(path, {"interval": interval.pk, "_save": "Save"})
        saved = time.time()
        print(f"    Periodic tasks -> {REFRESH_TASK} -> Interval Schedule '{interval}' -> "
              f"Save: {status}")
        print(f"    {said}")
        if not PeriodicTasks.last_change() or PeriodicTasks.last_change() == changes_before:
            raise SystemExit("[!] the save did not mark the schedule as changed "
                             "(django_celery_beat_periodictasks.last_update)")
        print("    PeriodicTask.save() also set django_celery_beat_periodictasks.last_update, the "
              "row beat polls")

        print("[5] after the save:")
        noticed = beat_wrote_back(saved, old + 10) - saved
        print(f"    {noticed:5.2f} s  beat noticed: it reloaded the schedule, wrote its run count "
              "to the row")
        times = [next_refresh(saved, old + 10)]
        print(f"    {times[0] - saved:5.2f} s  a refresh, the first on the new schedule")
        for _ in range(2):
            times.append(next_refresh(times[-1], seconds + 10))
            print(f"    {times[-1] - saved:5.2f} s  a refresh, {times[-1] - times[-2]:.2f} s after "
                  "the one before")
        gaps = [b - a for a, b in zip(times, times[1:])]
        print(f"[6] every {second - first:.1f} s before, every {sum(gaps) / len(gaps):.1f} s after; "
              f"beat noticed {noticed:.1f} s after the save, with no restart:")
        print(f"    it reads last_update whenever it wakes, for its next due task and at least every "
              f"{app.conf.beat_max_loop_interval or DEFAULT_MAX_INTERVAL:g} s")

        user.set_unusable_password()
        user.save()
        print(f"[7] {user.username} can no longer log in. To go back: python manage.py "
              f"edit_schedule {old:g}")
