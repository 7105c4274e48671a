from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("home.urls")),
]
# Uploaded files (the banner images) under /media/. Django serves them only while DEBUG is
# on (runserver, development); in production nginx or a CDN serves MEDIA_ROOT instead.
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
