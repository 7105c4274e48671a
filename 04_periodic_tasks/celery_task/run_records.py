"""Run records: proof of when, and how many times, beat's tasks really ran.

Each task calls record_run(self) first thing; a worker run appends its start time and
arguments to a Redis list named after the task, in the result backend's database (8), so
`python count_runs.py` counts runs instead of reading logs."""

import json
import time

KEY = "runs:{}"  # one list per task name, in the result backend's database (8)


def record_run(task):
    """Called first thing by each task. A direct call (task(...), as APScheduler does in
    aps_demo.py) is not a worker run and records nothing."""
    if task.request.called_directly:
        return
    key = KEY.format(task.name)
    entry = json.dumps({"at": time.time(), "args": list(task.request.args or ())})
    task.app.backend.client.pipeline().rpush(key, entry).expire(key, 3600).execute()


def runs_of(app, task_name, since=0.0):
    """The recorded runs of a task (oldest first) that started at or after `since`."""
    raw = app.backend.client.lrange(KEY.format(task_name), 0, -1)
    return [run for run in map(json.loads, raw) if run["at"] >= since]
