"""Exercise 1: a cache-aside read whose entries expire spread out, not all together.

Goal: `read_product(db, product_id)` looks in the cache first; on a miss it reads the
database and caches what it found for TTL seconds plus a random jitter of up to JITTER
seconds, drawn anew for each entry. 50 products cached in one go then expire over
JITTER seconds instead of in the same instant (the avalanche of avalanche.py).

The check reads 50 products through your function twice, on the chapter's Redis: the first
pass costs 50 database queries, the second none; every entry's TTL lies between TTL and
TTL + JITTER seconds; and the 50 TTLs are spread over at least a quarter of JITTER. A
product that does not exist returns None. Look up redis-py's set() (`ex` takes whole
seconds, `px` milliseconds) and Python's random module.
"""

import json
import random  # noqa: F401  (for the jitter)

from store import cache, key

TTL = 60     # seconds every entry stays at least
JITTER = 30  # seconds of random extra life, at most


def read_product(db, product_id):
    cached = cache.get(key(product_id))
    if cached is not None:
        return json.loads(cached)
    product = db.get(product_id)
    if product is not None:
        # TODO: cache it for TTL seconds plus a random jitter of up to JITTER seconds
        cache.set(key(product_id), json.dumps(product))
    return product
