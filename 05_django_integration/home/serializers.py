from urllib.parse import urljoin

from django.conf import settings
from rest_framework import serializers

from .models import Banner


def absolute_url(path):
    """/media/banner/celery.png -> http://127.0.0.1:8000/media/banner/celery.png.

    Built from settings.SITE_URL, never from the request: the beat task that refreshes the
    cache runs in the worker, where there is no request to take a host from."""
    return urljoin(settings.SITE_URL + "/", path)


class BannerSerializer(serializers.ModelSerializer):
    # A plain ImageField would give an absolute URL inside a view (DRF asks the request for
    # the host) but only "/media/banner/..." inside a Celery task: the lesson's last problem.
    image = serializers.SerializerMethodField()

    class Meta:
        model = Banner
        fields = ["id", "title", "image", "link", "orders"]

    def get_image(self, banner):
        return absolute_url(banner.image.url)


class LessonBannerSerializer(serializers.ModelSerializer):
    """The lesson's serializer, kept to show its problem (python manage.py image_urls)."""

    class Meta:
        model = Banner
        fields = ["id", "title", "image", "link", "orders"]
