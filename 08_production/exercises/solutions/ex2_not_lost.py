"""Exercise 2, a solution: acks_late keeps the message unacknowledged in Redis until the
task has finished; reject_on_worker_lost makes the worker reject it with requeue when the
pool process dies (without it, Celery acknowledges it anyway and records WorkerLostError).
Such a task can run twice: it must be safe to run again (chapter 09, exercise 2)."""

import os
import time

from celery_task import app


@app.task(bind=True, acks_late=True, reject_on_worker_lost=True)
def import_batch(self, batch):
    runs = app.backend.client.hincrby("import_batch:runs", str(batch), 1)
    app.backend.client.hset("import_batch:pid", str(batch), os.getpid())
    time.sleep(2.0)  # reading a file, writing its rows
    return {"batch": batch, "run": runs}
