"""Exercise 1: send the reports to a queue of their own, `reports`.

Goal: `monthly_report.delay(month)` puts its message on the queue `reports`, the one the
chapter's reports worker reads (`-Q reports,api`). As written it goes to `default`, where
this app puts every task no route names, and no worker of this chapter reads `default`:
the report would wait there for ever, PENDING, with no error anywhere.

The check imports this file, sends monthly_report(3) with delay(), and looks where the
message went: a worker that reads only `reports` must run it. Look up
`task_routes` in Celery's routing guide (celery_task.py has the chapter's own routes), or
the `queue` option a task can be declared with.
"""

from celery_task import app

# TODO: route monthly_report to the queue "reports"


@app.task
def monthly_report(month):
    return {"report": f"2025-{month:02d}", "pages": 12}
