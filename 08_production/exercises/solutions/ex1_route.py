"""Exercise 1, a solution: a route for the task's name, added to the app's task_routes
before anything is sent (the producer reads the routes when it sends: routing happens in
the process that calls delay(), not in the worker). `@app.task(queue="reports")` works too."""

from celery_task import app

app.conf.task_routes["exercises.ex1_route.monthly_report"] = {"queue": "reports"}


@app.task
def monthly_report(month):
    return {"report": f"2025-{month:02d}", "pages": 12}
