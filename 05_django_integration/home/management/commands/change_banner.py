"""python manage.py change_banner: change a banner's title in the database and watch the
API keep serving the old title until beat's next refresh rewrites the cache."""

import time

from django.core.management.base import BaseCommand

from home.management.client import call
from home.management.redis_check import require_redis
from home.models import Banner
from home.schedule import refresh_every
from luffy_api.celery import app

EDITED = " · edited "


def first_banner():
    reply = call("GET", "/api/banners/")
    if reply.status != 200 or not reply.json():
        raise SystemExit(f"[!] GET /api/banners/ answered {reply.status}: {reply.text[:200]} "
                         "(did you run python manage.py load_banners?)")
    filled_at = time.time() - float(reply.headers["X-Cache-Age"])
    return reply.json()[0], reply.headers, filled_at


class Command(BaseCommand):
    help = "Edit the first banner's title in the database; poll the API until it shows the new one."

    def handle(self, *args, **options):
        require_redis(app)
        every = refresh_every()  # the schedule in the database (home/schedule.py)
        banner, headers, filled_at = first_banner()
        old = banner["title"]
        print(f"[1] the API serves banner {banner['id']} as {old!r} "
              f"(X-Cache: {headers['X-Cache']}, filled by {headers['X-Cache-Filled-By']})")

        new = old.split(EDITED)[0] + EDITED + time.strftime("%H:%M:%S")
        Banner.objects.filter(pk=banner["id"]).update(title=new)  # the database only
        changed_at = time.monotonic()
        print(f"[2] UPDATE home_banner SET title = {new!r} WHERE id = {banner['id']}")
        print("    only the database changed: nobody deleted or rewrote the cached list")

        print(f"[3] GET /api/banners/ every 0.1 s (beat refreshes the cache every {every:g} s):")
        last_fill = None
        while time.monotonic() - changed_at < 3 * every + 5:
            banner, headers, filled_at = first_banner()
            if last_fill is None or abs(filled_at - last_fill) > 0.05:  # a new copy in the cache
                last_fill = filled_at
                title = banner["title"]
                print(f"    {time.monotonic() - changed_at:5.2f} s  "
                      f"{'new' if title == new else 'old'}: {title!r}  (cached by "
                      f"{headers['X-Cache-Filled-By']} {headers['X-Cache-Age']} s before)")
                if title == new:
                    stale = time.monotonic() - changed_at
                    print(f"[4] the API served the old title for {stale:.1f} s after the UPDATE, "
                          f"until beat's refresh (at most {every:g} s)")
                    print(f"    image URLs in the list the worker cached: {banner['image']}")
                    return
            time.sleep(0.1)
        raise SystemExit(f"[!] still the old title {3 * every + 5:g} s after the UPDATE. Are beat "
                         "(celery -A luffy_api beat -l info) and the worker running?")
