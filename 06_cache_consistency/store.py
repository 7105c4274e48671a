"""Chapter 06: the two stores every demo uses, a slow database and a Redis cache.

    the database  SQLite (the stdlib sqlite3 module), 1000 products, made slow on purpose:
                  each query waits DB_LATENCY seconds (50 ms) first, like a busy server, so a
                  stampede of queries costs what it would cost in production
    the cache     Redis database 14 (the Celery broker is database 12, results 13)

Environment: REDIS_URL (default redis://127.0.0.1:6379), SQLITE_PATH (default db.sqlite3
in this folder).
"""

import os
import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path

import redis

from redis_check import redis_url

# checked here: redis-py reads the URL as soon as the cache client below is made
REDIS_URL = redis_url()
CACHE_URL = f"{REDIS_URL}/14"
SQLITE_PATH = os.environ.get("SQLITE_PATH", str(Path(__file__).with_name("db.sqlite3")))
DB_LATENCY = 0.05        # seconds each database query waits first

TTL = 60                  # seconds a product stays in the cache
REFRESH_EVERY = 2.0       # seconds between two beat refreshes of the featured list
SECOND_DELETE_AFTER = 1.0  # seconds between the two deletes of a delayed double delete
PRODUCTS = 1000           # ids 1..1000 exist; anything else does not
FEATURED = (4, 6, 8)      # the "home page" list that beat keeps in the cache
FEATURED_KEY = "featured"


def key(product_id):
    """The cache key of one product."""
    return f"product:{product_id}"


# one client for the whole process: it keeps a pool of connections and is thread-safe
cache = redis.Redis.from_url(CACHE_URL, decode_responses=True, socket_connect_timeout=3,
                             socket_timeout=10)


class Database:
    """The products table. Every method is one query, counted and timed, in this process."""

    def __init__(self, path=SQLITE_PATH, latency=DB_LATENCY):
        self.path, self.latency = path, latency
        self.queries = 0          # how many queries this object ran
        self.started = []         # when each query started (time.monotonic())
        self.in_flight = 0        # queries running right now...
        self.peak_in_flight = 0   # ...and the most there ever were at once
        self._lock = threading.Lock()
        create_and_fill(path)

    def _query(self, sql, params=()):
        with self._lock:
            self.queries += 1
            self.started.append(time.monotonic())
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            time.sleep(self.latency)  # the "slow" database
            with closing(sqlite3.connect(self.path, timeout=10)) as conn, conn:
                conn.row_factory = sqlite3.Row
                return [dict(row) for row in conn.execute(sql, params)]
        finally:
            with self._lock:
                self.in_flight -= 1

    def get(self, product_id):
        """The product as a dict, or None when there is no such product."""
        rows = self._query("SELECT id, name, price FROM products WHERE id = ?", (product_id,))
        return rows[0] if rows else None

    def set_price(self, product_id, price):
        """Change a price (committed when this returns); returns the updated product."""
        return self._query("UPDATE products SET price = ? WHERE id = ? RETURNING id, name, price",
                           (price, product_id))[0]

    def get_many(self, product_ids):
        marks = ",".join("?" * len(product_ids))
        return self._query(f"SELECT id, name, price FROM products WHERE id IN ({marks})",
                           list(product_ids))

    def ids(self):
        return [row["id"] for row in self._query("SELECT id FROM products")]

    def featured(self):
        return self._query("SELECT id, name, price FROM products WHERE featured = 1 ORDER BY id")


_created = set()


def create_and_fill(path):
    """Create the table and its 1000 products the first time (not counted as queries)."""
    if path in _created:
        return
    with closing(sqlite3.connect(path, timeout=10)) as conn, conn:
        conn.execute("CREATE TABLE IF NOT EXISTS products (id INTEGER PRIMARY KEY, "
                     "name TEXT NOT NULL, price INTEGER NOT NULL, featured INTEGER NOT NULL)")
        conn.executemany("INSERT OR IGNORE INTO products VALUES (?, ?, 100, ?)",
                         [(i, f"product {i}", int(i in FEATURED)) for i in range(1, PRODUCTS + 1)])
    _created.add(path)


def reset(product_ids, price=100):
    """Put products back to a known price and drop them from the cache (before a demo)."""
    create_and_fill(SQLITE_PATH)
    with closing(sqlite3.connect(SQLITE_PATH, timeout=10)) as conn, conn:
        conn.executemany("UPDATE products SET price = ? WHERE id = ?",
                         [(price, i) for i in product_ids])
    if product_ids:
        cache.delete(*[key(i) for i in product_ids])

