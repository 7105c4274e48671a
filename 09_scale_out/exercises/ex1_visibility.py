"""Exercise 1: a task sent with a countdown runs once, not once per visibility timeout.

Goal: `remind(key)`, sent with countdown=3, runs exactly once, about 3 s after it was sent.

A worker takes a countdown task at once and holds it, unacknowledged, until it is due.
Redis hands a message that has stayed unacknowledged longer than the visibility timeout to
a worker again: a countdown longer than that timeout is delivered again, and every copy
runs (rabbitmq_vs_redis.py shows it). The line below was copied from a deployment that
wanted a crashed worker's tasks back within a second.

The check starts a worker on this file (a private Redis on loopback), sends remind with
countdown=3, and counts its runs (the `reminders` hash) until every copy has run. Look up
`visibility_timeout` in Celery's guide to the Redis broker: what must it be longer than?
"""

import time

from celery_task import app

# TODO: remind(), sent with countdown=3, must run once
app.conf.broker_transport_options["visibility_timeout"] = 1  # seconds


@app.task(bind=True)
def remind(self, key):
    runs = self.backend.client.hincrby("reminders", key, 1)
    return {"key": key, "run": runs, "ran_at": time.time()}
