"""Cache penetration: requests for products that do not exist, and two fixes, measured.

    python penetration.py

Cache-aside (strategies.read) caches what the database finds. A product that does not
exist is never found, so it is never cached, and every request for it goes through to the
database. The fixes:
  - cache the miss as well, briefly: a "null" entry for MISS_TTL seconds
  - a Bloom filter of the ids that exist, kept in a Redis bitmap: for an id that does not
    exist it almost always answers "certainly not", and neither the cache nor the database
    is asked at all
"""

import hashlib
import json
import math
import random
import time
from concurrent.futures import ThreadPoolExecutor

from celery_task import app
from redis_check import require_redis
from store import PRODUCTS, TTL, Database, cache, key
from strategies import read

MISS_TTL = 30  # seconds; short, because the product may be created later


def read_caching_misses(db, cache, product_id):
    """Cache-aside that also remembers "no such product" (the JSON null) for MISS_TTL."""
    cached = cache.get(key(product_id))
    if cached is not None:
        return json.loads(cached)  # "null" -> None: a remembered miss, no DB query
    product = db.get(product_id)
    cache.set(key(product_id), json.dumps(product), ex=TTL if product else MISS_TTL)
    return product


class BloomFilter:
    """A set in `bits` bits of a Redis string. Adding an id sets `hashes` bits; looking one
    up answers "certainly not there" if any of its bits is 0, "maybe there" otherwise."""

    def __init__(self, cache, name="bloom:products", bits=2 ** 14, hashes=4):
        self.cache, self.name, self.bits, self.hashes = cache, name, bits, hashes

    def positions(self, item):
        digest = hashlib.sha256(str(item).encode()).digest()  # 32 bytes: 4 bytes per hash
        return [int.from_bytes(digest[4 * i:4 * i + 4], "big") % self.bits
                for i in range(self.hashes)]

    def add(self, *items):
        pipe = self.cache.pipeline(transaction=False)
        for item in items:
            for position in self.positions(item):
                pipe.setbit(self.name, position, 1)
        pipe.execute()

    def might_contain(self, *items):
        """One answer per item (in one round trip): False means certainly not in the set."""
        pipe = self.cache.pipeline(transaction=False)
        for item in items:
            for position in self.positions(item):
                pipe.getbit(self.name, position)
        bits = pipe.execute()
        return [all(bits[i:i + self.hashes]) for i in range(0, len(bits), self.hashes)]


def read_with_bloom(db, cache, bloom, product_id):
    if not bloom.might_contain(product_id)[0]:
        return None  # certainly not in the database: ask neither the cache nor the database
    return read_caching_misses(db, cache, product_id)


def measure(label, reader, per_thread):
    """Each list in per_thread is one thread's requests, made one after the other."""
    cache.delete(*[key(i) for ids in per_thread for i in ids])  # start with a cold cache
    db = Database()
    started = time.monotonic()
    with ThreadPoolExecutor(len(per_thread)) as pool:
        found = list(pool.map(lambda ids: [reader(db, i) for i in ids], per_thread))
    took = time.monotonic() - started
    assert not any(p for ps in found for p in ps), "a missing product was found"
    requests = sum(len(ids) for ids in per_thread)
    distinct = len({i for ids in per_thread for i in ids})
    rate = f" ({db.queries / took:.0f}/s)" if db.queries else ""
    print(f"    {label:<19}{requests} requests -> {db.queries} DB queries, "
          f"{db.queries / distinct:.1f} per id{rate}")
    return db.queries


def main():
    require_redis(app)
    bloom = BloomFilter(cache)
    cache.delete(bloom.name)
    bloom.add(*Database().ids())  # a real application adds each new product here too
    readers = {
        "plain cache-aside": lambda db, i: read(db, cache, i),
        "+ cache the miss": lambda db, i: read_caching_misses(db, cache, i),
        "+ Bloom filter": lambda db, i: read_with_bloom(db, cache, bloom, i),
    }
    print(f"[1] {PRODUCTS} products exist (ids 1-{PRODUCTS}); none of the ids below does.\n"
          f"    Bloom filter of the existing ids: {bloom.bits} bits "
          f"({bloom.bits // 8192} KB of Redis), {bloom.hashes} hashes\n"
          "    Below, (n/s) is the rate of cache misses that reached the database.")

    repeated = [[1_000_000 + i] * 5 for i in range(1, 11)]  # 10 threads, one id each
    print("[2] 10 missing ids, each asked for 5 times (50 requests, 10 threads):")
    for label, reader in readers.items():
        measure(label, reader, repeated)

    rng = random.Random(6)
    fresh = rng.sample(range(PRODUCTS + 1, 10 ** 9), 50)
    print("[3] 50 missing ids, each asked for once (an attacker never repeats an id):")
    for label, reader in readers.items():
        measure(label, reader, [fresh[i::10] for i in range(10)])
    print("    Caching the miss cannot help when every id is new; the filter can.")

    probes = rng.sample(range(PRODUCTS + 1, 10 ** 9), 10_000)
    passed = sum(bloom.might_contain(*probes))
    theory = (1 - math.exp(-bloom.hashes * PRODUCTS / bloom.bits)) ** bloom.hashes
    print(f"[4] False positives: {passed} of {len(probes)} missing ids got past the filter "
          f"({passed / len(probes):.2%};\n"
          f"    the formula (1 - e^(-kn/m))^k predicts {theory:.2%}). Each costs one query.")

    real = sum(bloom.might_contain(*range(1, PRODUCTS + 1)))
    product = read_with_bloom(Database(), cache, bloom, 42)
    print(f"[5] No false negatives: {real} of {PRODUCTS} existing ids pass the filter.\n"
          f"    Product 42 through the filter: {product}")


if __name__ == "__main__":
    main()
