import re
import secrets
import time

from celery.result import AsyncResult
from django.conf import settings
from django.shortcuts import render
from django.urls import reverse
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from .banners import cached_banners
from .tasks import send_sms


class PublicAPIView(APIView):
    # Anyone may call these, so no login: and no session look-up, which would be a query.
    authentication_classes = []
    permission_classes = [AllowAny]


class BannerView(PublicAPIView):
    """GET /api/banners/ -> the banner list, from Redis when it is there (cache-aside)."""

    def get(self, request):
        entry, hit = cached_banners()
        response = Response(entry["banners"])
        response["X-Cache"] = "HIT" if hit else "MISS"
        response["X-Cache-Filled-By"] = entry["filled_by"]  # "request" (a miss) or "beat"
        response["X-Cache-Age"] = f"{time.time() - entry['filled_at']:.2f}"
        return response


class SmsView(PublicAPIView):
    """POST /api/sms/ mobile=... -> 202 and a task id, at once; the worker sends the SMS.
    At most REST_FRAMEWORK's rate for "sms" per client (settings.py): then 429."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "sms"

    def post(self, request):
        mobile = str(request.data.get("mobile", "")).strip()
        if not re.fullmatch(r"\+?\d{6,15}", mobile):
            return Response({"detail": "mobile must be 6 to 15 digits, e.g. 13800138000"},
                            status=status.HTTP_400_BAD_REQUEST)
        code = f"{secrets.randbelow(10_000):04d}"
        result = send_sms.delay(mobile, code)  # a message to Redis; the 1 s of work is not here
        return Response({"task_id": result.id,
                         "status_url": reverse("task-status", args=[result.id])},
                        status=status.HTTP_202_ACCEPTED)


class TaskStatusView(PublicAPIView):
    """GET /api/tasks/<id>/ -> the task's state (and its result once it has one)."""

    def get(self, request, task_id):
        result = AsyncResult(task_id)
        body = {"task_id": task_id, "state": result.state}
        if result.successful():
            body["result"] = result.result
        elif result.state == "PROGRESS":  # a task's own state: update_state(meta={...})
            body["progress"] = result.info
        elif result.failed():
            body["error"] = repr(result.result)
        return Response(body)


def index(request):
    """The home page. Its JavaScript fetches /api/banners/ and builds the carousel."""
    return render(request, "home/index.html", {"refresh_seconds": settings.BANNER_REFRESH_SECONDS})
