"""The home-page banner list: read from the database, cached in Redis (cache-aside),
refreshed every few seconds by a beat task. The view and the task share these functions,
so the list looks the same whoever filled the cache."""

import time

from django.conf import settings
from django.core.cache import cache

from .models import Banner
from .serializers import BannerSerializer


def banners_from_db():
    """One SQL query: the banners to show, as plain JSON-ready dicts with absolute image URLs."""
    shown = (Banner.objects.filter(is_delete=False, is_show=True)
             .order_by("orders", "id")[:settings.BANNER_COUNT])
    return [dict(item) for item in BannerSerializer(shown, many=True).data]


def fill_cache(banners, filled_by):
    """Store the list with a note of who stored it and when (the API shows both as headers)."""
    entry = {"banners": banners, "filled_by": filled_by, "filled_at": time.time()}
    cache.set(settings.BANNER_CACHE_KEY, entry, timeout=settings.BANNER_CACHE_SECONDS)
    return entry


def cached_banners():
    """Cache-aside: return (entry, hit). Redis first; on a miss, the database, then Redis."""
    entry = cache.get(settings.BANNER_CACHE_KEY)
    if entry is not None:  # not `if not entry`: an empty list is a valid, cached answer
        return entry, True
    return fill_cache(banners_from_db(), filled_by="request"), False
