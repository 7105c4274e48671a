"""python manage.py try_banner_api: watch cache-aside work, through the running web server.

The first request after the cached list is deleted reads the database and fills Redis;
the next ones read Redis only. Each answer carries X-Cache (HIT/MISS) and X-DB-Queries."""

import statistics

from django.conf import settings
from django.core.cache import cache
from django.core.management.base import BaseCommand

from home.management.client import call
from home.management.redis_check import require_redis
from luffy_api.celery import app

SAMPLES = 20


def get_banners():
    reply = call("GET", "/api/banners/")
    if reply.status != 200:
        raise SystemExit(f"[!] GET /api/banners/ answered {reply.status}: {reply.text}")
    return reply


def get_after_delete():
    """Delete the cached list, then GET it: a miss. Beat refills the cache every few seconds;
    when it did so in between (the answer is a HIT), delete and ask again."""
    for _ in range(3):
        cache.delete(settings.BANNER_CACHE_KEY)
        reply = get_banners()
        if reply.headers["X-Cache"] == "MISS":
            break
    return reply


def describe(reply):
    return (f"{reply.status}, {len(reply.json())} banners, X-Cache: {reply.headers['X-Cache']}, "
            f"X-DB-Queries: {reply.headers['X-DB-Queries']}, {reply.ms:.1f} ms")


class Command(BaseCommand):
    help = "GET /api/banners/ with a cold and a warm cache; count database queries and time."

    def handle(self, *args, **options):
        require_redis(app)
        warm_up = call("GET", "/")
        print(f"[1] GET / -> {warm_up.status} in {warm_up.ms:.0f} ms (warms the server up: "
              "the timings below compare like with like)")
        first = get_after_delete()
        print(f"[2] deleted the cached list, then GET /api/banners/ -> {describe(first)}")
        print("    a miss: the view read the database, then stored the list in Redis")
        second = get_banners()
        print(f"[3] GET /api/banners/ again -> {describe(second)}")
        print("    a hit: served from Redis, the database was not touched")

        warm = [get_banners() for _ in range(SAMPLES)]
        cold = [get_after_delete() for _ in range(SAMPLES)]
        print(f"[4] {SAMPLES} more requests each way:")
        for label, replies in (("cache warm", warm), ("key deleted before each", cold)):
            queries = sum(int(r.headers["X-DB-Queries"]) for r in replies)
            misses = sum(r.headers["X-Cache"] == "MISS" for r in replies)
            median = statistics.median(r.ms for r in replies)
            print(f"    {label:<23}: {misses:2} misses, {queries:2} queries, median {median:.1f} ms")
        print("    SQLite reads four rows from a local file quickly, so the times are close; what")
        print("    matters is the queries: with the cache, database load stops growing with traffic")
