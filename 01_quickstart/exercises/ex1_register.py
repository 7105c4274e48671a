"""Exercise 1: make `multiply` a Celery task, so a worker can run it.

Goal: `multiply.delay(6, 7)` is run by a worker started with
`celery -A celery_task worker -I exercises.ex1_register`, and its result is 42.

A plain function is not a task: the worker only runs functions registered on an app,
under a name (here `exercises.ex1_register.multiply`). Check with `make check CH=01`.
"""

from celery_task import app  # noqa: F401  (the chapter's app, with its broker and backend)


# TODO: register this function as a task of `app`
def multiply(a, b):
    return a * b
