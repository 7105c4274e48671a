"""Exercise 2: a beat entry of your own: report a queue's length every 2 seconds.

Goal: beat sends report_queue("celery") every 2 seconds. Add one entry to the app's
beat_schedule that names the task by its registered name (report_queue.name, which is
"exercises.ex2_beat_entry.report_queue"), a schedule of 2 seconds, and the argument.

The check starts a worker and one beat on this module (`celery -A exercises.ex2_beat_entry
beat -l info`, a command you can run too: the module imports the chapter's app, so beat
finds the app, and your entry, in it), then watches report_queue's runs for at most 6.5 s:
two runs, about 2 s apart, with the argument "celery". Look at the entries in
celery_task/celery.py, and at "Entries" in Celery's "Periodic Tasks" guide.
"""

import redis

from celery_task.celery import BROKER_URL, app
from celery_task.run_records import record_run


@app.task(bind=True)
def report_queue(self, queue):
    """How many messages wait in a queue of the broker (the Redis list named after it)."""
    record_run(self)
    waiting = redis.Redis.from_url(BROKER_URL).llen(queue)
    return f"{waiting} message(s) waiting in {queue!r}"


# TODO: add an entry to app.conf.beat_schedule: report_queue("celery") every 2 seconds
