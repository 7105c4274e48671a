"""Exercise 1: retry a flaky service by itself, with back-off, and give up in the end.

Goal: `forecast(city)` calls a weather service that is busy at first. Make the task retry
when the service raises `ServiceBusy`: 1 s after the first failure, 2 s after the second
(back-off that doubles, without jitter, so the check can time it), and at most 2 retries,
so a service that stays down ends the task FAILURE after 3 calls instead of for ever.

The check sends forecast("paris-...") (busy for 2 calls, then answers) and
forecast("atlantis-...") (always busy) to a worker, and times every call the service got:
paris must end SUCCESS on call 3, about 1 s and 2 s apart; atlantis FAILURE after call 3.
Look up the task options for "automatic retry for known exceptions" in Celery's Tasks guide
(celery_task/user_task.py uses some of them too).
"""

import time

import redis

from celery_task.celery import BACKEND_URL, app


class ServiceBusy(Exception):
    """The service did not answer; trying again later may work."""


def call_weather_service(city):
    """A pretend service: busy for the first 2 calls for a city, always for 'atlantis-...'.
    It writes down when each call came (a Redis list per city), for the check to read."""
    calls_key = f"exercise:weather:{city}"
    counter = redis.Redis.from_url(BACKEND_URL)
    calls = counter.rpush(calls_key, time.time())
    counter.expire(calls_key, 600)
    if city.startswith("atlantis") or calls <= 2:
        raise ServiceBusy(f"weather service busy (call {calls})")
    return f"sunny in {city.split('-')[0]}"


# TODO: retry on ServiceBusy, after 1 s, then 2 s (no jitter), at most 2 retries
@app.task
def forecast(city):
    return call_weather_service(city)
