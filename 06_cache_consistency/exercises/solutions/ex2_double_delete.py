"""Exercise 2, a solution: apply_async(countdown=...) sends the task now with an ETA; the
worker holds it and runs it SECOND_DELETE_AFTER seconds later, while update_price has long
returned. A stale price written back in between is deleted then."""

from celery_task import delete_key
from store import SECOND_DELETE_AFTER, cache, key


def update_price(db, product_id, price):
    cache.delete(key(product_id))
    db.set_price(product_id, price)
    delete_key.apply_async((key(product_id),), countdown=SECOND_DELETE_AFTER)
