"""Exercise 2: image URLs that work wherever the task runs.

Goal: the task `banner_image_urls()` returns the full URL of each shown banner's image,
such as http://127.0.0.1:8000/media/banner/celery.png, when the worker runs it. The check
loads the sample banners, sends the task to the worker and looks at what it returns.

In a view, DRF builds absolute URLs from the request's host; a worker has no request, so
`banner.image.url` alone is only "/media/banner/...". This project says where the site is
in settings.SITE_URL (see home/serializers.py for how its API does it).
"""

from celery import shared_task

from home.models import Banner


@shared_task
def banner_image_urls():
    shown = Banner.objects.filter(is_delete=False, is_show=True).order_by("orders", "id")
    # TODO: make each URL absolute, from settings.SITE_URL (not from a request: there is none)
    return [banner.image.url for banner in shown]
