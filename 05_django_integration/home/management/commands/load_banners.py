"""python manage.py load_banners: replace the banners with the sample ones (images in media/banner/)."""

from django.conf import settings
from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from home.management.redis_check import require_redis
from home.models import Banner
from luffy_api.celery import app

# title, image (under MEDIA_ROOT), link, orders, is_show, is_delete
SAMPLES = [
    ("Learn Celery by running it", "banner/celery.png",
     "https://docs.celeryq.dev/en/stable/getting-started/first-steps-with-celery.html", 1, True, False),
    ("Redis: broker, results and cache", "banner/redis.png",
     "https://redis.io/docs/latest/", 2, True, False),
    ("Beat sends tasks on a schedule", "banner/beat.png",
     "https://docs.celeryq.dev/en/stable/userguide/periodic-tasks.html", 3, True, False),
    ("Django hands slow work to Celery", "banner/django.png",
     "https://docs.celeryq.dev/en/stable/django/first-steps-with-django.html", 4, True, False),
    ("Next term's course (draft)", "banner/celery.png", "/", 5, False, False),
    ("Last year's promotion", "banner/redis.png", "/", 6, True, True),
]


class Command(BaseCommand):
    help = "Replace every banner with the sample banners (their images ship in media/banner/)."

    def handle(self, *args, **options):
        require_redis(app)
        for _, image, *_ in SAMPLES:
            if not (settings.MEDIA_ROOT / image).exists():
                raise CommandError(f"{settings.MEDIA_ROOT / image} is missing")
        with transaction.atomic():
            removed, _ = Banner.objects.all().delete()
            Banner.objects.bulk_create(
                Banner(title=title, image=image, link=link, orders=orders, is_show=show,
                       is_delete=deleted)
                for title, image, link, orders, show, deleted in SAMPLES)
        print(f"[1] removed {removed} old banners")
        shown = sum(1 for *_, show, deleted in SAMPLES if show and not deleted)
        print(f"[2] created {len(SAMPLES)} banners; the home page shows the {shown} with "
              "is_show=True and is_delete=False:")
        for title, image, _, orders, show, deleted in SAMPLES:
            note = "" if show and not deleted else ("  (is_delete=True)" if deleted else "  (is_show=False)")
            print(f"    {orders}  {title:<34} {image}{note}")
        # Update the database, then delete the cached copy: the next request reads the new rows.
        cache.delete(settings.BANNER_CACHE_KEY)
        print(f"[3] deleted the cached list (key {settings.BANNER_CACHE_KEY!r}), so the next "
              "request reads these rows")
