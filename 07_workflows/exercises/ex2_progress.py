"""Exercise 2: a task that reports its progress while it runs.

Goal: `count_to(n)` is a task of the chapter's app that takes n steps of 0.1 s and, after
each step, reports the custom state PROGRESS with meta {"done": <steps done>, "total": n},
so a caller polling AsyncResult.state and .info sees it move (as progress.py's bar does).
It returns {"done": n, "total": n}.

The check sends exercises.ex2_progress.count_to(10) to a worker and reads its state every
20 ms: it must see PROGRESS (3 reports at least), "done" going up from 1 to at most 10,
then SUCCESS with {"done": 10, "total": 10}. Look up `bind=True` (the task gets itself as
`self`) and Task.update_state (Custom states, in the Tasks guide).
"""

import time

from celery_task import app


@app.task
def count_to(n):
    for done in range(1, n + 1):
        time.sleep(0.1)  # one step of work
        # TODO: report state PROGRESS with meta {"done": done, "total": n} (a bound task)
    return {"done": n, "total": n}
