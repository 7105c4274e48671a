import re

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("home.urls")),
]
# Uploaded files (the banner images) under /media/. Django serves them while DEBUG is on
# (runserver, development), as django.conf.urls.static.static() does; in production nginx or
# a CDN serves MEDIA_ROOT instead, unless DJANGO_SERVE_MEDIA=1 (settings.SERVE_MEDIA) asks
# Django to go on serving them (docker-compose.yml's web service: gunicorn, nothing in front).
if settings.SERVE_MEDIA:
    urlpatterns += [re_path(rf"^{re.escape(settings.MEDIA_URL.lstrip('/'))}(?P<path>.*)$", serve,
                            {"document_root": settings.MEDIA_ROOT})]
