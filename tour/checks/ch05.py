"""Chapter 05's exercises (05_django_integration/exercises/): Django's ORM and a real worker,
on an SQLite file of the chapter copy (migrated and loaded with the sample banners first)."""

import sqlite3
import time

from ..exercises import CheckBroken, Ctx, NotYet

DJANGO = """
import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "luffy_api.settings")
import django
django.setup()
import luffy_api  # the project's Celery app, which .delay() sends with
"""


def database(ctx: Ctx) -> None:
    """Migrate and load the sample banners once per chapter run (the copy's own db.sqlite3)."""
    if getattr(ctx, "migrated", False):
        return
    for command in ("python manage.py migrate", "python manage.py load_banners"):
        done = ctx.run.run(command, timeout=60)
        if done.returncode != 0:
            raise CheckBroken(f"`{command}` failed: {done.output.strip().splitlines()[-1:]}")
    ctx.migrated = True


def on_commit(ctx: Ctx) -> str:
    database(ctx)
    worker = ctx.worker()
    since = worker.mark()
    found = ctx.python("""
        from exercises.ex1_on_commit import place_order
        done(placed=call(place_order, "13800138000", "Celery in practice", limit=10))
    """, timeout=30, prelude=DJANGO)
    placed = found["placed"]
    if placed["hung"] or placed["error"]:
        raise NotYet(f"place_order(...) {'had not returned after 10 s' if placed['hung'] else 'raised ' + placed['error']}")
    order = placed["value"]
    if not isinstance(order, int):
        raise NotYet(f"place_order(...) returned {order!r}; it should return the order's id")
    deadline = time.monotonic() + 6
    while time.monotonic() < deadline:
        with sqlite3.connect(ctx.run.path / "db.sqlite3", timeout=20) as db:
            row = db.execute("SELECT notified FROM home_order WHERE id = ?", (order,)).fetchone()
        if row and row[0]:
            return f"order {order} committed first, then the worker texted the buyer"
        if worker.count(r"notify_order\[.*raised unexpected: DoesNotExist", since):
            raise NotYet(f"the worker ran notify_order({order}) before your COMMIT and failed "
                         "with Order.DoesNotExist: the message left inside the transaction")
        time.sleep(0.1)
    raise NotYet(f"order {order} was not notified 6 s after place_order returned "
                 "(was notify_order sent at all?)")


def image_urls(ctx: Ctx) -> str:
    database(ctx)
    ctx.worker()
    found = ctx.python("""
        from django.conf import settings
        from exercises.ex2_image_urls import banner_image_urls
        sent = banner_image_urls.delay()
        done(urls=call(sent.get, 10, limit=12), site=settings.SITE_URL)
    """, timeout=30, prelude=DJANGO)
    urls, site = found["urls"], found["site"]
    if urls["hung"] or urls["error"]:
        raise NotYet(f"banner_image_urls on the worker {'gave no result in 12 s' if urls['hung'] else 'failed: ' + urls['error']}")
    value = urls["value"]
    if not isinstance(value, list) or not value:
        raise NotYet(f"the worker returned {value!r}; it should return a list of 4 URLs")
    wrong = [url for url in value if not str(url).startswith(f"{site}/media/banner/")]
    if wrong:
        raise NotYet(f"the worker returned {wrong[0]!r}: no host (a worker has no request); "
                     f"it should start with {site}/media/banner/ (settings.SITE_URL)")
    return f"the worker returned {len(value)} absolute URLs, e.g. {value[0].replace(site, '<SITE_URL>')}"


CHECKS = {"ex1_on_commit": on_commit, "ex2_image_urls": image_urls}
