"""Cache avalanche: entries cached together with one TTL all expire together.

    python avalanche.py

100 products are put in the cache in one go (after a deploy, a restart, a bulk import) and
50 reader threads keep reading them. With one TTL for all of them, every entry expires in
the same instant and the database gets every query at once. The fix measured here: TTL
jitter, a random extra share of the TTL per entry, so they expire spread out.
"""

import json
import random
import threading
import time

from celery_task import app
from redis_check import require_redis
from store import Database, cache, key, reset
from strategies import read

PRODUCTS = list(range(101, 201))  # the 100 products of this demo
READERS = 50                      # threads; each reads its 2 products every 50 ms
TTL, JITTER = 2.0, 2.0            # seconds: base TTL, and the most jitter adds
BUCKET = 0.25                     # seconds per column of the histogram
RUN_FOR = TTL + JITTER + 0.5      # seconds the readers read after the warm-up


def ttl_with_jitter(base, spread):
    """base seconds plus a random share of spread: entries set together expire apart."""
    return base + random.uniform(0, spread)


def warm_up(products, jitter):
    """Put every product in the cache at once, as a cache warm-up or a bulk import does."""
    pipe = cache.pipeline(transaction=False)
    for product in products:
        ttl = ttl_with_jitter(TTL, JITTER) if jitter else TTL
        pipe.set(key(product["id"]), json.dumps(product), px=int(ttl * 1000))
    pipe.execute()


def run(jitter):
    reset(PRODUCTS)
    products = Database().get_many(PRODUCTS)
    db = Database()  # counts only the readers' queries
    warm_up(products, jitter)
    warmed = time.monotonic()
    stop = warmed + RUN_FOR

    def reader(mine):
        while time.monotonic() < stop:
            for product_id in mine:
                read(db, cache, product_id)  # a miss refills the entry with the usual 60 s TTL
            time.sleep(0.05)

    threads = [threading.Thread(target=reader, args=(PRODUCTS[i::READERS],))
               for i in range(READERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(RUN_FOR + 10)

    times = sorted(t - warmed for t in db.started)
    columns = [0] * int(RUN_FOR / BUCKET)
    for t in times:
        columns[min(int(t / BUCKET), len(columns) - 1)] += 1
    peak = max((sum(1 for u in times if t <= u < t + BUCKET) for t in times), default=0)
    print(f"    DB queries in each {BUCKET:g} s after the warm-up (0 to {RUN_FOR:g} s):")
    print("    " + "".join(f"{n:4d}" for n in columns))
    print(f"    peak: {peak} DB queries in {BUCKET:g} s ({peak / BUCKET:.0f}/s), "
          f"{db.peak_in_flight} at once; total {db.queries}")


def main():
    require_redis(app)
    print(f"[1] {len(PRODUCTS)} products (ids {PRODUCTS[0]}-{PRODUCTS[-1]}) are cached in one go; "
          f"{READERS} threads\n"
          f"    read them (2 each, every 50 ms) for {RUN_FOR:g} s and refill the cache on a miss.")
    print(f"[2] One TTL for all: {TTL:g} s.")
    run(jitter=False)
    print(f"[3] TTL {TTL:g} s plus a random jitter of up to {JITTER:g} s per entry.")
    run(jitter=True)


if __name__ == "__main__":
    main()
