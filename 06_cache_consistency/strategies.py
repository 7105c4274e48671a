"""Chapter 06: one read path and the five ways to update a cached value.

Every reader uses cache-aside (`read`): look in the cache, on a miss read the database and
put what it found in the cache. The writers differ in what they do to the cache when a
price changes. `db` is a store.Database, `cache` a redis.Redis; race.py passes wrapped ones
that record each call, to force and show the interleavings.
"""

import json

from celery_task import delete_key
from store import FEATURED_KEY, SECOND_DELETE_AFTER, TTL, key


def read(db, cache, product_id, ttl=TTL):
    """Cache-aside, as in the lesson: the cache first, the database on a miss."""
    cached = cache.get(key(product_id))
    if cached is not None:
        return json.loads(cached)
    product = db.get(product_id)
    if product is not None:  # nothing is cached for a product that does not exist
        cache.set(key(product_id), json.dumps(product), ex=ttl)
    return product


# 1. Update the database, then the cache.
def update_db_then_cache(db, cache, product_id, price):
    product = db.set_price(product_id, price)
    cache.set(key(product_id), json.dumps(product), ex=TTL)


# 2. Delete the cache entry, then update the database (the next reader refills the cache).
def delete_cache_then_update_db(db, cache, product_id, price):
    cache.delete(key(product_id))
    db.set_price(product_id, price)


# 3. Update the database, then delete the cache entry.
def update_db_then_delete_cache(db, cache, product_id, price):
    db.set_price(product_id, price)
    cache.delete(key(product_id))


# 4. Periodic refresh: the writer only touches the database; beat's refresh_featured task
#    (celery_task.py) rewrites the cached featured list every REFRESH_EVERY seconds.
def update_db_only(db, cache, product_id, price):
    db.set_price(product_id, price)


def read_featured(db, cache):
    """The featured list as beat last cached it (from the database if it is not cached)."""
    cached = cache.get(FEATURED_KEY)
    if cached is None:
        cached = json.dumps({"read_at": 0, "products": db.featured()})
        cache.set(FEATURED_KEY, cached, ex=TTL)
    return json.loads(cached)


# 5. Delayed double delete: strategy 2, plus a second delete a little later, run by a
#    worker. It removes whatever a slow reader put back in between.
def delayed_double_delete(db, cache, product_id, price, delay=SECOND_DELETE_AFTER):
    cache.delete(key(product_id))
    db.set_price(product_id, price)
    return delete_key.apply_async((key(product_id),), countdown=delay)
