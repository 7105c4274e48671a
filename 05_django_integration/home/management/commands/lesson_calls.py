"""python manage.py lesson_calls: the lesson's Django code, run in this project. What works
as written, what fails and why, and the fix beside it:

1. the lesson's import of its task (`from celery_task.user_task import send_sms`)
2. the lesson's view test(request): send_sms.delay(mobile, code), then HttpResponse(res)
3. the lesson's BannerView.list(), cached under "banner_list_cache"
4. the lesson's settings lines for a script: DJANGO_SETTINGS_MODULE "luffy_api.settings.dev"
5. the lesson's time zone: Celery takes Django's TIME_ZONE unless CELERY_TIMEZONE is set
"""

import contextlib
import importlib
import io
import os
import subprocess
import sys
from datetime import timedelta, timezone
from urllib.parse import urlsplit

from celery import Celery
from celery.exceptions import TimeoutError as ResultTimeout
from celery.result import AsyncResult
from celery.schedules import crontab
from django.conf import settings
from django.core.cache import cache
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.test import RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext

from home import lesson_views
from home.management.redis_check import require_redis
from home.models import Banner
from luffy_api.celery import app

LESSON_KEY = "banner_list_cache"
# The lesson's lines (its "calling Django from a script"), and the same with this project's
# settings module; each runs in a new Python process, as a script or a worker would.
LESSON_SETUP = ('import os\n'
                'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "luffy_api.settings.dev")\n'
                'import django\n'
                'django.setup()\n')
FIXED_SETUP = LESSON_SETUP.replace("luffy_api.settings.dev", "luffy_api.settings") + (
    "from home.models import Banner\nprint(Banner.objects.count())\n")
WORKER_HINT = "Is the worker running (celery -A luffy_api worker -l info)?"


def in_new_process(code):
    """(exit code, last line printed) of `python -c code` in this folder, as a new script:
    DJANGO_SETTINGS_MODULE is not set yet (manage.py set it for this process only)."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    done = subprocess.run([sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env,
                          capture_output=True, text=True, timeout=60)
    lines = (done.stdout + done.stderr).strip().splitlines()
    return done.returncode, lines[-1] if lines else ""


def printed_by(view, request):
    """(response, what the view printed): the lesson's views print, as debugging."""
    with contextlib.redirect_stdout(io.StringIO()) as out:
        response = view(request)
    return response, out.getvalue().strip()


def call_banner_view(request):
    """(number of banners, SQL queries, what it printed) of one BannerView.list() call."""
    view = lesson_views.BannerView.as_view({"get": "list"})
    with CaptureQueriesContext(connection) as queries:
        response, printed = printed_by(view, request)
    return len(response.data), len(queries), printed


def next_fire(schedule, celery_app):
    """When a crontab entry of celery_app fires next, in the app's time zone."""
    now = celery_app.now()
    # remaining_estimate() counts from its own, slightly later, now: round to the minute
    fires = now + schedule.remaining_estimate(now) + timedelta(seconds=1)
    return fires.astimezone(celery_app.timezone).replace(second=0, microsecond=0)


class Command(BaseCommand):
    help = "Run the lesson's Django code in this project: what works, what fails, and the fix."

    def handle(self, *args, **options):
        require_redis(app)
        requests = RequestFactory(HTTP_HOST=urlsplit(settings.SITE_URL).netloc)

        print("[1] the lesson's view imports its task from the package it copied into the project:")
        print("    from celery_task.user_task import send_sms")
        try:
            importlib.import_module("celery_task.user_task")
            print("    -> it imports: a celery_task package is in this folder")
        except ModuleNotFoundError as exc:
            print(f"    -> ModuleNotFoundError: {exc}")
        print("    this project's task is home.tasks.send_sms (the same arguments), bound to its")
        print("    app in luffy_api/celery.py: home/lesson_views.py imports that one")

        print("[2] the lesson's view test(request), with GET /test/?mobile=13800138000:")
        response, printed = printed_by(lesson_views.test,
                                       requests.get("/test/", {"mobile": "13800138000"}))
        task_id = response.content.decode()
        print(f"    its print(res): {printed}")
        print(f"    -> {response.status_code}, body {task_id}")
        print("    HttpResponse(res) holds str(res): the task's id, as the lesson says")
        try:
            result = AsyncResult(task_id, app=app).get(timeout=15)
        except ResultTimeout:
            raise SystemExit(f"[!] no answer from the worker after 15 s. {WORKER_HINT}")
        print(f"    the worker: SUCCESS, {result}")

        print(f"[3] the lesson's BannerView.list(), its list cached under {LESSON_KEY!r}:")
        cache.delete(LESSON_KEY)
        request = requests.get("/api/banner/")
        (shown, first, said), (_, second, _) = call_banner_view(request), call_banner_view(request)
        print(f"    two calls: {shown} banners, {first} SQL query, then {second}: from Redis "
              f"(it printed {said!r} once)")
        print("    cache.set() without a timeout: the entry expires after Django's default, "
              f"{cache.default_timeout:g} s")
        print("    with no banner to show (all hidden, in a transaction rolled back after):")
        with transaction.atomic():
            Banner.objects.update(is_show=False)
            cache.delete(LESSON_KEY)
            calls = [call_banner_view(request) for _ in range(2)]
            transaction.set_rollback(True)
        cache.delete(LESSON_KEY)  # the cached [] is not rolled back with the database
        print(f"    two calls: {calls[0][0]} banners, {calls[0][1]} SQL query, then {calls[1][1]}: "
              "`if not banner_list` takes")
        print("    the cached [] for a miss")
        print("    (this project tests `is None`, in home/banners.py)")

        print("[4] the lesson's lines for using Django in a script, in a new Python process:")
        print('    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "luffy_api.settings.dev")')
        print("    import django; django.setup()")
        code, last = in_new_process(LESSON_SETUP)
        print(f"    -> exit {code}: {last}")
        print("    the lesson's project has a settings package (settings/dev.py); this one has")
        print('    one module, luffy_api/settings.py: "luffy_api.settings"')
        code, last = in_new_process(FIXED_SETUP)
        print(f"    with it: exit {code}, django.setup() works, Banner.objects.count() = {last}")
        print("    a task module needs neither line: luffy_api/celery.py sets the variable before")
        print("    the app exists, and Celery calls django.setup() when the worker starts")

        print("[5] the time zone of Celery's schedules (the lesson sets app.conf.timezone):")
        print(f"    this project: {app.timezone}, Django's TIME_ZONE = {settings.TIME_ZONE!r} "
              "(no CELERY_TIMEZONE in settings.py)")
        with override_settings(TIME_ZONE="Asia/Shanghai"):  # the app reads the setting once
            lessons = Celery("lessons_project", set_as_current=False)
            lessons.config_from_object("django.conf:settings", namespace="CELERY")
            print(f"    the same app with TIME_ZONE = 'Asia/Shanghai', as in the lesson's "
                  f"project: {lessons.timezone}")
        for label, celery_app in (("this project:   ", app), ("lesson's project:", lessons)):
            fires = next_fire(crontab(hour=8, minute=0, app=celery_app), celery_app)
            print(f"    crontab(hour=8, minute=0), {label} {fires:%H:%M} {celery_app.timezone}"
                  f" = {fires.astimezone(timezone.utc):%H:%M} UTC")
        print("    Celery reads Django's TIME_ZONE: set CELERY_TIMEZONE only for another zone")
