"""Exercise 2: charge an order once, however many times the task runs.

Goal: `charge(order_id, amount)` may run twice for one order (acks_late: a worker killed
mid-task runs it again, see the failure drills). The customer must be charged once: the
first run charges and returns "charged", every later run for the same order charges
nothing and returns "already charged".

The check sends charge("order-...", 30) three times at once to a worker that runs several
tasks at a time, then counts the charges written for that order: exactly 1, and all three
runs SUCCESS. A check-then-write in two steps can let two runs in at the same moment; look
up Redis's SET command and its NX option (in redis-py, `set()`'s nx= argument): one command
that only one run can win.
"""

import redis

from celery_task.celery import BACKEND_URL, app


def payments():
    return redis.Redis.from_url(BACKEND_URL, decode_responses=True)


def take_money(client, order_id, amount):
    """The side effect that must happen once: a charge written to the order's ledger."""
    ledger = f"exercise:ledger:{order_id}"
    client.rpush(ledger, amount)
    client.expire(ledger, 600)


@app.task(acks_late=True, reject_on_worker_lost=True)
def charge(order_id, amount):
    client = payments()
    # TODO: return "already charged" (and take no money) when this order was charged before
    take_money(client, order_id, amount)
    return "charged"
