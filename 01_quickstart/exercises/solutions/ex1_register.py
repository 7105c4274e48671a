"""Exercise 1, a solution: the decorator registers the function on the chapter's app under
the name exercises.ex1_register.multiply, the name the worker looks it up by."""

from celery_task import app


@app.task
def multiply(a, b):
    return a * b
