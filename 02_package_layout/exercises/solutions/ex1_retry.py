"""Exercise 1, a solution: autoretry_for turns ServiceBusy into a retry instead of a failure;
retry_backoff=1 waits 1 s, then 2 s (it doubles each time; retry_jitter=False keeps it
exact, production keeps jitter on); max_retries=2 gives up after the third call. Without
retry_backoff a retry would wait default_retry_delay, 3 minutes."""

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


@app.task(autoretry_for=(ServiceBusy,), retry_backoff=1, retry_jitter=False, max_retries=2)
def forecast(city):
    return call_weather_service(city)
