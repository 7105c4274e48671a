"""python manage.py image_urls: the lesson's last problem. A serializer with a plain
ImageField builds absolute image URLs from the request; inside a Celery task there is no
request, so the URLs lose their host. This project builds them from settings.SITE_URL."""

from urllib.parse import urlsplit

from celery.exceptions import TimeoutError as ResultTimeout
from django.conf import settings
from django.core.cache import cache
from django.core.management.base import BaseCommand
from rest_framework.test import APIRequestFactory

from home.management.client import call
from home.management.redis_check import require_redis
from home.models import Banner
from home.serializers import BannerSerializer, LessonBannerSerializer
from home.tasks import lesson_image_urls
from luffy_api.celery import app

HINT = "Is the worker running (celery -A luffy_api worker -l info)?"


class Command(BaseCommand):
    help = "Compare image URLs built in a view, in a task, and from settings.SITE_URL."

    def handle(self, *args, **options):
        require_redis(app)
        banner = Banner.objects.filter(is_delete=False, is_show=True).order_by("orders", "id").first()
        if banner is None:
            raise SystemExit("[!] no banner to show: run python manage.py load_banners first")
        request = APIRequestFactory().get("/api/banners/", HTTP_HOST=urlsplit(settings.SITE_URL).netloc)
        in_view = LessonBannerSerializer(banner, context={"request": request}).data["image"]
        try:
            in_task = lesson_image_urls.delay().get(timeout=15)[0]
        except ResultTimeout:
            raise SystemExit(f"[!] no answer from the worker after 15 s. {HINT}")
        print("[1] the lesson's serializer (a plain ImageField) builds the URL from the request:")
        print(f"    in a view, from the request's Host header: {in_view}")
        print(f"    in the worker, where there is no request:  {in_task}")
        print("    a front end on another host or port resolves that path against itself: broken images")
        print("[2] BannerSerializer builds it from settings.SITE_URL, the same in a view and in a task:")
        print(f"    {BannerSerializer(banner).data['image']}")

        entry = cache.get(settings.BANNER_CACHE_KEY)
        if entry is None:
            raise SystemExit("[!] nothing cached yet: is beat running (celery -A luffy_api beat -l info)?")
        images = [item["image"] for item in entry["banners"]]
        absolute = all(url.startswith(settings.SITE_URL + "/") for url in images)
        print(f"[3] the list in the cache (filled by {entry['filled_by']}): {len(images)} image URLs, "
              f"all absolute: {'yes' if absolute else 'NO'}")
        reply = call("GET", urlsplit(images[0]).path)
        print(f"[4] GET {images[0]} -> {reply.status} {reply.headers['Content-Type']}, "
              f"{reply.headers['Content-Length']} bytes")
