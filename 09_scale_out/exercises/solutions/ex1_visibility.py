"""Exercise 1, a solution: a visibility timeout longer than the longest countdown or ETA
(plus the longest run, for acks_late tasks): Redis then never hands the held message out
again. The cost: a message a crashed worker held comes back only that late. Celery's
default is an hour; on RabbitMQ there is no such timeout at all."""

import time

from celery_task import app

app.conf.broker_transport_options["visibility_timeout"] = 3600  # seconds


@app.task(bind=True)
def remind(self, key):
    runs = self.backend.client.hincrby("reminders", key, 1)
    return {"key": key, "run": runs, "ran_at": time.time()}
