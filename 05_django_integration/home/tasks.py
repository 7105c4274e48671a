"""The tasks of the home app. autodiscover_tasks() (luffy_api/celery.py) imports this file
in the worker; @shared_task binds each task to the project's Celery app without importing
it, so this app could be reused in another project."""

import time

from celery import shared_task
from celery.utils.log import get_task_logger
from django.conf import settings
from django.db import OperationalError

from .banners import banners_from_db, fill_cache
from .models import Banner, Order
from .phone import masked
from .serializers import LessonBannerSerializer
from .thumbnails import make_thumbnail

logger = get_task_logger(__name__)


# rate_limit: each worker starts at most 30 of these a minute, one every 2 s (a token bucket
# in the worker, per worker: two workers send twice as many). The view's throttle (settings.py)
# refuses requests; this only spaces out the ones accepted.
@shared_task(rate_limit="30/m")
def send_sms(mobile, code):
    """Pretend to call an SMS provider (1 s). The view that sends this does not wait for it."""
    time.sleep(1)
    logger.info("SMS to %s: your code is %s", masked(mobile), code)
    return f"sent a {len(code)}-digit code to {masked(mobile)}"


@shared_task
def notify_order(order_id):
    """Text the buyer of an order. It reads the order from the database first: if the
    transaction that created the row has not committed yet, the row is not there."""
    order = Order.objects.get(pk=order_id)  # raises Order.DoesNotExist for an uncommitted row
    time.sleep(0.2)  # the SMS provider
    Order.objects.filter(pk=order_id).update(notified=True)
    return f"texted {masked(order.mobile)} about order {order_id} ({order.course})"


@shared_task(ignore_result=True)  # runs every few seconds: no need to store each result
def refresh_banner_cache():
    """Run by beat every BANNER_REFRESH_SECONDS: read the banners from the database (the ORM
    works here because Celery's Django support called django.setup()) and overwrite the cache."""
    try:
        banners = banners_from_db()
    except OperationalError as exc:  # "no such table": the database is not migrated yet
        logger.warning("banner cache not refreshed: %s (run `python manage.py migrate`)", exc)
        return "skipped: the database is not migrated yet"
    fill_cache(banners, filled_by="beat")
    return f"cached {len(banners)} banners"


@shared_task
def lesson_image_urls():
    """The lesson's serializer, run where the lesson's beat task ran: in the worker, where
    there is no request. Returns the image URLs it produces."""
    shown = Banner.objects.filter(is_delete=False, is_show=True).order_by("orders", "id")
    return [item["image"] for item in LessonBannerSerializer(shown, many=True).data]


@shared_task(bind=True)
def rebuild_thumbnails(self):
    """Make a thumbnail of every banner's image (home/thumbnails.py), slowed down by
    THUMBNAIL_SECONDS per banner, and report progress as it goes: update_state() stores the
    custom state PROGRESS with {"done", "total"} in the result backend, where
    GET /api/tasks/<id>/ (and the page's progress bar) reads it."""
    banners = list(Banner.objects.order_by("orders", "id"))
    total = len(banners)
    self.update_state(state="PROGRESS", meta={"done": 0, "total": total})
    names = []
    for done, banner in enumerate(banners, start=1):
        time.sleep(settings.THUMBNAIL_SECONDS)  # the slow part of a real job, made visible
        names.append(make_thumbnail(banner))
        self.update_state(state="PROGRESS", meta={"done": done, "total": total})
    logger.info("rebuilt %d thumbnails in %s/thumbs/", total, settings.MEDIA_URL.strip("/"))
    return {"done": total, "total": total, "size": "x".join(map(str, settings.THUMBNAIL_SIZE)),
            "urls": [settings.SITE_URL + settings.MEDIA_URL + name for name in names]}
