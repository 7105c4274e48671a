"""Thumbnails of the banner images, made with Pillow: what rebuild_thumbnails (home/tasks.py)
does for each banner. They go to MEDIA_ROOT/thumbs/ (git ignores that folder's content) and
are served under /media/thumbs/ like the banner images."""

from pathlib import Path

from django.conf import settings
from PIL import Image


def thumbnail_name(banner) -> str:
    """thumbs/banner-<id>.png: one per banner (two banners may share an image)."""
    return f"thumbs/banner-{banner.pk}.png"


def make_thumbnail(banner) -> str:
    """Write a THUMBNAIL_SIZE copy of the banner's image (cropped to fill it, not
    stretched); return its name under MEDIA_ROOT."""
    name = thumbnail_name(banner)
    target = Path(settings.MEDIA_ROOT) / name
    target.parent.mkdir(parents=True, exist_ok=True)
    width, height = settings.THUMBNAIL_SIZE
    with Image.open(banner.image.path) as image:
        image = image.convert("RGB")
        scale = max(width / image.width, height / image.height)  # cover the box
        image = image.resize((round(image.width * scale), round(image.height * scale)),
                             Image.Resampling.LANCZOS)
        left, top = (image.width - width) // 2, (image.height - height) // 2
        image.crop((left, top, left + width, top + height)).save(target, "PNG", optimize=True)
    return name
