"""The lesson's two views, as the lesson wrote them, to run beside this project's own
(`python manage.py lesson_calls` calls both). Two lines had to change; each one says what
the lesson had, and why.

- test(request): a request sends an SMS without waiting for it (the lesson's "Celery in
  Django: asynchronous tasks")
- BannerView.list(): the banner list cached in Redis (the lesson's "the home-page banners
  in the cache")

luffy_api/urls.py does not route them: the site's SmsView (a POST that answers 202) and
BannerView (home/banners.py: a TTL, and `is None`) are this chapter's versions, and the
README's "The lesson's calls in this project" says what each one changes.
"""

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse  # the lesson's test(request) uses it; its import is not shown
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.viewsets import ViewSetMixin

from . import models
# The lesson: `from . import serializer` and `serializer.BannerSerializer`, its plain
# ModelSerializer (serializer.py is not shown). Here that is LessonBannerSerializer.
from .serializers import LessonBannerSerializer
# The lesson: `from celery_task.user_task import send_sms`, from the package of its chapter
# 02 that it copied into the project. This project has no such package (the import raises
# ModuleNotFoundError: No module named 'celery_task'); its send_sms task, with the same two
# arguments, is home.tasks.send_sms, bound to the project's app (luffy_api/celery.py).
from .tasks import send_sms


def test(request):
    mobile = request.GET.get("mobile")
    code = "9999"
    res = send_sms.delay(mobile, code)
    print(res)
    return HttpResponse(res)


class BannerView(ViewSetMixin, ListAPIView):
    queryset = models.Banner.objects.all().filter(is_delete=False, is_show=True).order_by('orders')[
               :settings.BANNER_COUNT]
    serializer_class = LessonBannerSerializer

    def list(self, request, *args, **kwargs):
        banner_list = cache.get("banner_list_cache")
        if not banner_list:
            print("hit the database")  # the lesson's print("走了数据库")
            res = super().list(request, *args, **kwargs)
            banner_list = res.data
            cache.set("banner_list_cache", banner_list)
        return Response(data=banner_list)
