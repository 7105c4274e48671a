"""Exercise 2, a solution: SET key NX is one Redis command, so of the runs for one order
exactly one creates the key and charges; the others find it there and charge nothing.
(A GET, then a SET, is two commands: two runs can both GET "not there" first.) The key
expires after a day; a real shop keeps "charged" in its database, under a unique key."""

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
    if not client.set(f"exercise:charged:{order_id}", 1, nx=True, ex=24 * 3600):
        return "already charged"
    take_money(client, order_id, amount)
    return "charged"
