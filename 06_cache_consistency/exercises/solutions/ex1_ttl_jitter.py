"""Exercise 1, a solution: each miss draws its own jitter, so entries cached together get
TTLs anywhere between TTL and TTL + JITTER seconds and expire one by one. px= takes
milliseconds (whole numbers), so the jitter need not be whole seconds."""

import json
import random

from store import cache, key

TTL = 60
JITTER = 30


def read_product(db, product_id):
    cached = cache.get(key(product_id))
    if cached is not None:
        return json.loads(cached)
    product = db.get(product_id)
    if product is not None:
        ttl = TTL + random.uniform(0, JITTER)
        cache.set(key(product_id), json.dumps(product), px=int(ttl * 1000))
    return product
