"""Hear about every failed task: a `task_failure` signal handler, one line per failure.

The worker imports this module at start (celery_task.py: imports=["alerts"]). Celery's own
"Task ... raised unexpected" line comes with a traceback of 10 lines or more; a dashboard, an
alert rule or `grep` wants one line with the task's name and id. This handler writes it:

    ... WARNING MainProcess alerts: task failed: celery_task.divide[<id>] ZeroDivisionError: division by zero

and keeps the last 100 in a Redis list, `alerts`, that failures.py reads (in production you
would send them to Sentry, a chat room or a pager instead).
"""

import logging

from celery import signals

logger = logging.getLogger("alerts")
KEEP = 100


@signals.task_failure.connect
def on_task_failure(sender=None, task_id=None, exception=None, **kwargs):
    line = f"task failed: {sender.name}[{task_id}] {type(exception).__name__}: {exception}"
    logger.warning(line)
    try:
        client = sender.app.backend.client
        client.pipeline().lpush("alerts", line).ltrim("alerts", 0, KEEP - 1).execute()
    except Exception:  # noqa: BLE001 - the alert line above is written already
        logger.warning("could not keep the alert in Redis (is it down?)")
