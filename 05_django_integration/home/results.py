"""Results in the database, with django-celery-results, for the tasks that ask for it.

The project's result backend stays Redis db 10 (CELERY_RESULT_BACKEND in settings.py); a
task whose base is ResultInDatabase stores its state and return value in the database
instead: the TaskResult table, which the admin lists (/admin/django_celery_results/).
`python manage.py compare_backends` times a round trip with each.

Why not CELERY_RESULT_BACKEND = "django-db" for every task: see the README, "Results in
the database". In short, transaction_demo holds SQLite's write lock while it waits for the
worker, and the worker would need that lock to store the result; and a database backend is
polled, every 0.5 s by default, where Redis pushes the result to whoever waits."""

from functools import cached_property

from celery import Task, shared_task
from django_celery_results.backends import DatabaseBackend


class ExtendedDatabaseBackend(DatabaseBackend):
    """django-celery-results' backend, also storing the task's name, arguments and worker (the
    admin's columns) as CELERY_RESULT_EXTENDED = True would. That setting would do it for the
    Redis results too, and keep send_sms's arguments, the login code itself, for a day."""

    def _get_extended_properties(self, request, traceback):
        props = super()._get_extended_properties(request, traceback)  # all None: setting off
        if request is not None:
            args = getattr(request, "argsrepr", None) or getattr(request, "args", None)
            kwargs = getattr(request, "kwargsrepr", None) or getattr(request, "kwargs", None)
            props.update(
                task_name=getattr(request, "task", None),
                task_args=None if args is None else self.encode_content(args)[2],
                task_kwargs=None if kwargs is None else self.encode_content(kwargs)[2],
                periodic_task_name=getattr(request, "periodic_task_name", None),
                worker=getattr(request, "hostname", None),
                traceback=traceback,
            )
        return props


class ResultInDatabase(Task):
    """Base class of a task whose results go to the database, whatever the app's backend.
    The worker stores them with task.backend, and task.delay() returns an AsyncResult that
    reads them from there (task.AsyncResult(id) too)."""

    @cached_property
    def backend(self):
        return ExtendedDatabaseBackend(app=self.app, url="django-db")


@shared_task
def echo(n):
    """Does nothing but return its argument: a round trip measures the result backend."""
    return n


@shared_task(base=ResultInDatabase)
def echo_in_db(n):
    """echo, its result stored in the database (one TaskResult row per call)."""
    return n
