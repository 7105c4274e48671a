"""python manage.py progress_demo: what the progress page (/thumbnails/) does, in a terminal.
It asks the running site to start rebuild_thumbnails (POST /api/thumbnails/), then asks
GET /api/tasks/<id>/ again and again and draws each answer as the page draws its bar."""

import io
import json
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from PIL import Image

from home.management.client import call
from home.management.redis_check import require_redis
from luffy_api.celery import app

WAITING_AFTER = 2.0  # seconds of PENDING before saying that no worker has taken the task
WIDTH = 20  # characters of the bar


def bar(percent):
    filled = round(WIDTH * percent / 100)
    return f"[{'#' * filled}{' ' * (WIDTH - filled)}] {percent:3d} %"


class Command(BaseCommand):
    help = "POST /api/thumbnails/, then draw the task's progress as the page does."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=30, help="seconds to wait for the task")

    def handle(self, *args, timeout, **options):
        require_redis(app)
        reply = call("POST", "/api/thumbnails/")
        print(f"[1] POST /api/thumbnails/ -> {reply.status} in {reply.ms:.0f} ms")
        if reply.status != 202:
            raise SystemExit(f"[!] the view refused: {reply.text}")
        task = reply.json()
        print(f"    {json.dumps(task)}")
        print(f"    rebuild_thumbnails sleeps {settings.THUMBNAIL_SECONDS:.2f} s per banner "
              "(THUMBNAIL_SECONDS) and reports each one with update_state()")
        print(f"[2] GET {task['status_url']} every 0.1 s, each change drawn as the page draws it:")
        started, shown, percent, said_waiting = time.monotonic(), None, 0, False
        seen = []  # the percentages the bar showed, in order
        while True:
            elapsed = time.monotonic() - started
            answer = call("GET", task["status_url"]).json() if shown else {"state": "PENDING"}
            state = answer["state"]
            detail = ""
            if state == "PROGRESS":
                done, total = answer["progress"]["done"], answer["progress"]["total"]
                percent = round(100 * done / total) if total else 0
                detail = f"{done} of {total} banners"
            elif state == "SUCCESS":
                percent, result = 100, answer["result"]
                detail = f"{result['done']} thumbnails of {result['size']}"
            elif state in ("FAILURE", "REVOKED"):
                detail = answer.get("error", "")
            if (state, percent) != shown:
                shown = (state, percent)
                print(f"    {elapsed:5.2f} s  {state:<9} {bar(percent)}  {detail}".rstrip())
                if not seen or seen[-1] != percent:
                    seen.append(percent)
            if state == "PENDING" and elapsed > WAITING_AFTER and not said_waiting:
                said_waiting = True
                print(f"    {elapsed:5.2f} s  still PENDING: no worker has taken the task yet (or no "
                      "task has this id: Celery cannot tell the two apart)")
            if state == "SUCCESS":
                break
            if state in ("FAILURE", "REVOKED"):
                raise SystemExit(f"[!] the task ended {state}: {detail}")
            if elapsed > timeout:
                raise SystemExit(f"[!] the task is still {state} after {timeout:g} s. Is the worker "
                                 "running (celery -A luffy_api worker -l info), against the same "
                                 "REDIS_URL? The task stays queued until one takes it.")
            time.sleep(0.1)
        between = [p for p in seen if 0 < p < 100]
        print(f"[3] the bar showed {len(between)} values between 0 and 100 %: "
              f"{', '.join(map(str, between))}")
        first = result["urls"][0]
        image = call("GET", first.removeprefix(settings.SITE_URL))
        with Image.open(io.BytesIO(image.body)) as picture:
            size = f"{picture.width} x {picture.height}"
        print(f"[4] GET {first} -> {image.status} {image.headers['Content-Type']}, {size} pixels")
