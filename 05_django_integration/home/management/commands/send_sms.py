"""python manage.py send_sms 13800138000: ask the site to text a login code, like a
browser would, and watch the task the view sent finish in the worker."""

import json
import time

from django.core.management.base import BaseCommand

from home.management.client import call
from home.management.redis_check import require_redis
from luffy_api.celery import app


class Command(BaseCommand):
    help = "POST /api/sms/ (answers at once with a task id), then follow the task to the end."

    def add_arguments(self, parser):
        parser.add_argument("mobile", help="the phone number to text")
        parser.add_argument("--timeout", type=float, default=15, help="seconds to wait for the task")

    def handle(self, *args, mobile, timeout, **options):
        require_redis(app)
        reply = call("POST", "/api/sms/", {"mobile": mobile})
        print(f"[1] POST /api/sms/ mobile={mobile} -> {reply.status} in {reply.ms:.0f} ms")
        if reply.status != 202:
            raise SystemExit(f"[!] the view refused: {reply.text}")
        body = reply.json()
        print(f"    {json.dumps(body)}")
        print("    the view only put a message in Redis and answered: sending takes the worker 1 s")
        print(f"[2] asking GET {body['status_url']} every 0.1 s:")
        started, last = time.monotonic(), "PENDING"  # queued, as the 202 said
        print(f"    {0:5.2f} s  {last}")
        while time.monotonic() - started < timeout:
            state = call("GET", body["status_url"]).json()
            if state["state"] != last:
                last = state["state"]
                detail = state.get("result") or state.get("error") or ""
                print(f"    {time.monotonic() - started:5.2f} s  {last}{': ' + detail if detail else ''}")
            if last in ("SUCCESS", "FAILURE"):
                return
            time.sleep(0.1)
        raise SystemExit(f"[!] the task is still {last} after {timeout:g} s. Is the worker running "
                         "(celery -A luffy_api worker -l info), against the same REDIS_URL?")
