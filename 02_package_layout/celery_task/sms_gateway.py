"""A pretend SMS provider that is down for the first few calls of every message.

Real gateways time out and rate-limit; this one fails the first FAILURES calls for each
(phone, code) pair, then accepts. It counts calls in Redis, so the count is shared by every
worker process, as a real outage would be.
"""

import os

import redis

from .celery import BACKEND_URL

FAILURES = int(os.environ.get("SMS_GATEWAY_FAILURES", "2"))


class GatewayDown(Exception):
    """The provider did not accept the message; trying again later may work."""


def send(phone, text):
    counter = redis.Redis.from_url(BACKEND_URL)
    key = f"fake-sms-gateway:calls:{phone}:{text}"
    calls = counter.incr(key)
    counter.expire(key, 600)
    if calls <= FAILURES:
        raise GatewayDown(f"gateway busy (call {calls}; it fails the first {FAILURES})")
    return {"phone": phone, "accepted_on_call": calls}
