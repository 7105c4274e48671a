"""The progress bar: a page with a button (GET /thumbnails/) and the endpoint it calls
(POST /api/thumbnails/), which starts rebuild_thumbnails and answers 202 with the task's id
at once, like SmsView. The page then polls GET /api/tasks/<id>/ (views.TaskStatusView),
which returns the task's PROGRESS meta, and draws the bar."""

from django.conf import settings
from django.shortcuts import render
from django.urls import reverse
from rest_framework import status
from rest_framework.response import Response

from .tasks import rebuild_thumbnails
from .views import PublicAPIView  # no authentication: no session, no CSRF token needed

GIVE_UP_SECONDS = 60  # the page stops asking after this long (?give_up=N changes it)


class ThumbnailsView(PublicAPIView):
    """POST /api/thumbnails/ -> 202 and the id of a rebuild_thumbnails task."""

    def post(self, request):
        result = rebuild_thumbnails.delay()
        return Response({"task_id": result.id,
                         "status_url": reverse("task-status", args=[result.id])},
                        status=status.HTTP_202_ACCEPTED)


def thumbnails_page(request):
    """The page with the button and the progress bar (home/templates/home/thumbnails.html)."""
    try:
        give_up = max(1.0, min(float(request.GET.get("give_up", GIVE_UP_SECONDS)), 3600.0))
    except ValueError:
        give_up = GIVE_UP_SECONDS
    return render(request, "home/thumbnails.html",
                  {"give_up_seconds": give_up, "seconds_per_banner": settings.THUMBNAIL_SECONDS})
