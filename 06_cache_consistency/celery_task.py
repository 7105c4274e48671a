"""Chapter 06: the Celery side of two cache-update strategies.

  refresh_featured  beat sends it every REFRESH_EVERY seconds: rewrite the cached featured
                    list from the database (strategy 4, the lesson's periodic refresh)
  delete_key        the second delete of a delayed double delete (strategy 5), sent with a
                    countdown so it runs a little after the write

Start both from this folder, in two terminals:
    celery -A celery_task worker -l info
    celery -A celery_task beat -l info
"""

import json
import os
import time

from celery import Celery

from store import FEATURED_KEY, REFRESH_EVERY, Database, cache

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
BROKER_URL = f"{REDIS_URL}/12"   # the queue (the cache itself is database 14, in store.py)
BACKEND_URL = f"{REDIS_URL}/13"  # task states and results

app = Celery("celery_task", broker=BROKER_URL, backend=BACKEND_URL)
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    result_expires=3600,
    broker_connection_retry_on_startup=True,
    redis_socket_connect_timeout=3,
    beat_schedule={
        "refresh-featured": {
            "task": "celery_task.refresh_featured",
            "schedule": REFRESH_EVERY,
            # a refresh nobody ran in time is useless (a newer one is coming): drop it instead
            # of letting a worker that was down run a backlog of them
            "options": {"expires": REFRESH_EVERY},
        },
    },
)


@app.task
def refresh_featured():
    """Strategy 4: read the featured products from the database, overwrite the cache.
    The TTL is a safety net: if beat stops, the entry expires instead of staying stale."""
    read_at = time.time()  # before the read: anything committed earlier is in this list
    products = Database().featured()
    value = {"read_at": read_at, "products": products}
    cache.set(FEATURED_KEY, json.dumps(value), ex=int(3 * REFRESH_EVERY) + 1)
    return [p["price"] for p in products]


@app.task
def delete_key(key):
    """Strategy 5: the second delete, run by a worker SECOND_DELETE_AFTER seconds later."""
    return cache.delete(key)
