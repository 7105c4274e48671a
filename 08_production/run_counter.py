"""Count every run of a task, in Redis: the supervised worker loads this module with `-I`.

    celery -A celery_task worker ... -I run_counter      (deploy/supervisord.conf)

Each time a task starts, `task_prerun` adds one to its id in the hash `supervised:runs`
(database 0). A task that a killed worker had started, and that runs again after the restart,
counts 2: supervised_restart.py reads the counts and prints "ran twice K".
"""

from celery import signals

RUNS = "supervised:runs"


@signals.task_prerun.connect
def count_run(sender=None, task_id=None, **kwargs):
    sender.app.backend.client.hincrby(RUNS, task_id, 1)


def runs(app):
    """{task id: how many times it started}."""
    return {k.decode(): int(v) for k, v in app.backend.client.hgetall(RUNS).items()}
