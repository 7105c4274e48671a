"""Exercise 2, a solution: bind=True passes the task itself as `self`; update_state writes
the state PROGRESS and its meta to the result backend under the task's id, where a caller's
AsyncResult reads them (state, info) until the next report or the result replaces them."""

import time

from celery_task import app


@app.task(bind=True)
def count_to(self, n):
    for done in range(1, n + 1):
        time.sleep(0.1)
        self.update_state(state="PROGRESS", meta={"done": done, "total": n})
    return {"done": n, "total": n}
