import time

from .celery import app


@app.task
def add(a, b):
    time.sleep(2)
    return a + b
