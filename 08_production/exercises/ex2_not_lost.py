"""Exercise 2: a task that is not lost when the process running it dies.

Goal: when the pool process running `import_batch` is killed mid-run (SIGKILL, the kernel's
OOM killer, a segfault in a C library), the task is not lost: its message goes back to the
queue, a new pool process runs it again, and it ends in SUCCESS.

The check sends import_batch(7) to the queue `reports`, waits until it has started, kills
that pool process with SIGKILL (the pid the task records) and waits for the result: it
must be SUCCESS after a second run. As written the worker acknowledges the message as the
task starts, so the kill leaves a FAILURE (WorkerLostError) and nothing that could run
again. Look up, in Celery's task options, when a message is acknowledged and what happens
to it when the worker running it is lost (both matter).
"""

import os
import time

from celery_task import app


# TODO: keep the message until import_batch has finished, and hand it back if its process dies
@app.task(bind=True)
def import_batch(self, batch):
    runs = app.backend.client.hincrby("import_batch:runs", str(batch), 1)
    app.backend.client.hset("import_batch:pid", str(batch), os.getpid())
    time.sleep(2.0)  # reading a file, writing its rows
    return {"batch": batch, "run": runs}
