import time

from .celery import app


@app.task
def busy(seconds):
    """Keep one worker process busy, so the next task has to wait its turn."""
    time.sleep(seconds)
    return seconds
