"""beat's scheduler: django-celery-beat's DatabaseScheduler, for a beat started before
`python manage.py migrate` (this chapter's walkthrough starts it first, in terminal 4).

The stock scheduler reads its tables as it starts and exits on "no such table". This one
first waits, one line in beat's log, until no migration is left to apply, then starts as
the stock one does. Waiting for every migration, not just django_celery_beat's tables,
matters: the banner refresh is a row that home's migration 0002 adds, and a beat that read
the table between the two would not see it for 5 minutes (the scheduler counts a change
only against a PeriodicTasks.last_update it has already read)."""

import time

from celery.utils.log import get_logger
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django_celery_beat import schedulers

logger = get_logger(__name__)


def unapplied_migrations():
    executor = MigrationExecutor(connection)
    return executor.migration_plan(executor.loader.graph.leaf_nodes())


class DatabaseScheduler(schedulers.DatabaseScheduler):
    waiting = False  # a scheduler is being set up and waits for migrate

    def setup_schedule(self):
        if DatabaseScheduler.waiting:
            # Ctrl-C or SIGTERM while it waits: beat's handler saves the schedule of a
            # scheduler that does not exist yet by making one, which would wait in turn.
            # There is nothing to save: stop.
            raise SystemExit()
        DatabaseScheduler.waiting = True
        try:
            self.wait_for_migrations()
        finally:
            DatabaseScheduler.waiting = False
        super().setup_schedule()

    def wait_for_migrations(self):
        said = False
        while True:
            try:
                left = unapplied_migrations()
            except DatabaseError:  # "database is locked" while migrate writes: ask again
                left = [None]
            if not left:
                break
            if not said:
                logger.warning("beat: waiting for the database: %d migrations not applied "
                               "(run `python manage.py migrate`)", len(left))
                said = True
            time.sleep(0.5)
        if said:
            logger.info("beat: the database is migrated, reading the schedule from it")
        connection.close()  # the scheduler opens its own as it goes
