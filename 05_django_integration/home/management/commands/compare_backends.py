"""python manage.py compare_backends: the same round trip (echo.delay(i), then .get()) with
the result in Redis and with the result in the database (django-celery-results), against
the running worker; median and p95 of each, and what the database backend's waiting costs.

The worker stores each task's result where the task says: echo uses the project's backend
(Redis db 10), echo_in_db the database (home/results.py). So one worker serves both, and
the only difference between the two runs is the result backend."""

import json
import statistics
import time

from celery.exceptions import TimeoutError as ResultTimeout
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError
from django_celery_results.models import TaskResult

from home.management.redis_check import require_redis
from home.results import echo, echo_in_db
from luffy_api.celery import app

WORKER_HINT = ("Is the worker running (celery -A luffy_api worker -l info), against the same "
               "REDIS_URL and DJANGO_DB_PATH?")


def p95(values):
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


class Command(BaseCommand):
    help = "Time delay() -> get() round trips with the result in Redis and in the database."

    def add_arguments(self, parser):
        parser.add_argument("--n", type=int, default=10, help="round trips per backend")
        parser.add_argument("--timeout", type=float, default=10, help="seconds to wait for each")

    def round_trips(self, task, n, timeout, **get_options):
        """Milliseconds of n round trips, after one not counted (it opens the connections)."""
        timings = []
        for i in range(n + 1):
            started = time.perf_counter()
            result = task.delay(i)
            try:
                value = result.get(timeout=timeout, **get_options)
            except ResultTimeout:
                raise SystemExit(f"[!] {task.name}({i}): no result after {timeout:g} s. "
                                 f"{WORKER_HINT}")
            took = (time.perf_counter() - started) * 1000
            if value != i:
                raise SystemExit(f"[!] {task.name}({i}) returned {value!r}")
            if i:
                timings.append(took)
        return timings

    def show(self, number, label, ms):
        print(f"[{number}] {label:<34}: median {statistics.median(ms):6.1f} ms, "
              f"p95 {p95(ms):6.1f} ms")

    def handle(self, *args, n, timeout, **options):
        require_redis(app)
        where = settings.CELERY_RESULT_BACKEND.rsplit("/", 1)[-1]
        try:
            before = TaskResult.objects.filter(task_name=echo_in_db.name).count()
        except DatabaseError:
            raise SystemExit("[!] no TaskResult table in the database: run python manage.py "
                             "migrate (django_celery_results' migrations make it)")
        print(f"[1] {n} round trips with each result backend, one at a time: .delay(i), then "
              ".get(), the worker")
        print("    in between (it stores each result where its task says: home/results.py)")

        self.show(2, f"Redis (db {where}, the project's)", self.round_trips(echo, n, timeout))
        print("    the worker publishes the result and .get() is woken by it (Redis pub/sub)")
        self.show(3, "the database, .get()", self.round_trips(echo_in_db, n, timeout))
        print("    .get() reads the task's row, sleeps interval=0.5 s (its default), reads again")
        self.show(4, "the database, .get(interval=0.05)",
                  self.round_trips(echo_in_db, n, timeout, interval=0.05))
        print("    reads 20 times a second instead of 2 while it waits: sooner, for more queries")

        rows = TaskResult.objects.filter(task_name=echo_in_db.name)
        last = rows.order_by("-date_done").first()
        print(f"[5] the database kept them: {rows.count() - before} new rows of "
              f"{echo_in_db.name} in TaskResult, {rows.count()} in all")
        print(f"    the last: {last.status}, args {json.loads(last.task_args)}, result "
              f"{last.result}, worker {last.worker}")
        print(f"    the admin lists them: {settings.SITE_URL}/admin/django_celery_results/taskresult/")
