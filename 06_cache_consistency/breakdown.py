"""Cache breakdown: a hot entry expires while 50 readers want it at the same moment.

    python breakdown.py

With plain cache-aside every one of them misses and every one queries the database for
the same row. The fix measured here: a lock in Redis (SET key token NX PX ms), so only the
reader that wins it refills the cache; the others wait a few milliseconds for the entry.
"""

import json
import secrets
import threading
import time

from celery_task import app
from redis_check import require_redis
from store import Database, cache, key, reset
from strategies import read

HOT = 7          # the hot product
REBUILD = 0.2    # seconds: its entry takes a heavy query to rebuild (joins, aggregates...)
READERS = 50     # how many readers ask for it at the same moment
LOCK_MS = 2000   # the lock frees itself after this, even if its holder dies
WAIT_S = 3       # a reader waits at most this long for someone else's refill

# Delete the lock only if it still holds our token: if we were slower than LOCK_MS, the
# lock expired and someone else holds it now. GET and DEL in one script, so nothing can
# happen between the two.
RELEASE = cache.register_script(
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end "
    "return 0")


def read_with_lock(db, cache, product_id):
    """Cache-aside where only the reader holding the lock refills a missing entry."""
    lock = f"lock:{key(product_id)}"
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        cached = cache.get(key(product_id))
        if cached is not None:
            return json.loads(cached)
        token = secrets.token_hex(8)
        if cache.set(lock, token, nx=True, px=LOCK_MS):  # only one reader gets it
            try:
                return read(db, cache, product_id)  # looks in the cache once more first
            finally:
                RELEASE(keys=[lock], args=[token])
        time.sleep(0.01)  # another reader is refilling the entry: look again in 10 ms
    return db.get(product_id)  # the refill is taking too long: ask the database ourselves


def stampede(reader):
    """Let the hot entry really expire, then release READERS threads at once."""
    reset([HOT])
    db = Database()
    read(db, cache, HOT)                       # cache the hot product...
    cache.pexpire(key(HOT), 300)               # ...for 0.3 s more
    db = Database(latency=REBUILD)             # count from here on; a heavy query
    go = threading.Event()
    took = []

    def one_reader():
        go.wait()
        started = time.monotonic()
        reader(db, HOT)
        took.append(time.monotonic() - started)

    threads = [threading.Thread(target=one_reader) for _ in range(READERS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 5
    while cache.exists(key(HOT)) and time.monotonic() < deadline:
        time.sleep(0.005)
    go.set()
    for thread in threads:
        thread.join(10)
    return db, max(took)


def main():
    require_redis(app)
    print(f"[1] Product {HOT} is hot, and rebuilding its entry takes a {REBUILD:g} s query. The entry\n"
          f"    gets a TTL of 0.3 s; {READERS} reader threads wait for it to expire, then all ask\n"
          f"    for it at once.")
    db, slowest = stampede(lambda db, i: read(db, cache, i))
    print(f"[2] Without a lock: {READERS} readers -> {db.queries} DB queries "
          f"({db.peak_in_flight} at the same time)\n"
          f"    {db.queries} of {READERS} readers missed and went to the database; "
          f"slowest {slowest:.2f} s")
    db, slowest = stampede(lambda db, i: read_with_lock(db, cache, i))
    print(f"[3] With a lock:    {READERS} readers -> {db.queries} DB "
          f"{'query' if db.queries == 1 else 'queries'} ({db.peak_in_flight} at the same time)\n"
          f"    one reader won SET lock:{key(HOT)} <token> NX PX {LOCK_MS} and refilled\n"
          f"    the entry; the others looked again every 10 ms; slowest {slowest:.2f} s")


if __name__ == "__main__":
    main()
