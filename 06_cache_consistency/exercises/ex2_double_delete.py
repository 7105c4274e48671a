"""Exercise 2: the delayed double delete, the second delete run by a worker.

Goal: `update_price(db, product_id, price)` deletes the product's cache entry, writes the
new price to the database, and has a worker delete the entry once more SECOND_DELETE_AFTER
seconds (1 s) later: strategy 5 of race.py. The second delete removes an old price that a
slow reader put back in between. update_price returns at once: it does not wait for it.

The check caches product 7 at price 100 and calls update_price(db, 7, 120). Then it plays
the slow reader: 0.3 s after the call it writes the old price back into the cache. The
entry must be gone right after your call, and gone again about 1 s after it, deleted by a
worker running celery_task.delete_key (the worker's log says so), not by your process.
Look up apply_async() and its `countdown` argument (Calling Tasks).
"""

from celery_task import delete_key  # noqa: F401  (the chapter's task: cache.delete(key))
from store import SECOND_DELETE_AFTER, cache, key  # noqa: F401


def update_price(db, product_id, price):
    cache.delete(key(product_id))
    db.set_price(product_id, price)
    # TODO: have a worker run delete_key(key(product_id)) SECOND_DELETE_AFTER seconds from now
