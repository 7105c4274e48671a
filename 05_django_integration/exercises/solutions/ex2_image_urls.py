"""Exercise 2, a solution: join each image's path to settings.SITE_URL, where the site is
reached; the same in a view, in the worker and in beat's refresh."""

from urllib.parse import urljoin

from celery import shared_task
from django.conf import settings

from home.models import Banner


@shared_task
def banner_image_urls():
    shown = Banner.objects.filter(is_delete=False, is_show=True).order_by("orders", "id")
    return [urljoin(settings.SITE_URL + "/", banner.image.url) for banner in shown]
