"""python manage.py sms_flood: 30 requests to POST /api/sms/ as fast as one client can send
them. The view's throttle (DRF's ScopedRateThrottle, 5 a minute per client) accepts the
first few and refuses the rest with 429; the task's rate_limit ("30/m") spaces out the SMS
the worker sends. The command counts both, and measures the sending rate from the times
the worker finished each task (the result backend's date_done).

It sends from its own client address, 127.0.0.2 (on Linux all of 127.0.0.0/8 is this
machine), so the refusals it provokes do not fall on your browser and the other commands,
which come from 127.0.0.1. Where 127.0.0.2 is not available (macOS without an alias), it says
so and sends from the default address: then your own requests are refused for a minute too."""

import http.client
import json
import socket
import time
import urllib.parse

from celery.result import AsyncResult
from django.conf import settings
from django.core.cache import cache
from django.core.management.base import BaseCommand
from rest_framework.settings import api_settings

from home.management.redis_check import require_redis
from home.tasks import send_sms
from luffy_api.celery import app

REQUESTS = 30
FORGED = 3  # then a few more, each claiming another address in X-Forwarded-For
OWN_ADDRESS = "127.0.0.2"
MOBILE = "13800138000"


class Client:
    """One HTTP client, with the source address of its choice."""

    def __init__(self, source):
        site = urllib.parse.urlsplit(settings.SITE_URL)
        self.host, self.port = site.hostname, site.port or 80
        self.source = source

    def post(self, path, data, headers=None):
        """(status, headers, parsed body) of one POST; exits with one line if nobody answers."""
        connection = http.client.HTTPConnection(
            self.host, self.port, timeout=15,
            source_address=(self.source, 0) if self.source else None)
        try:
            connection.request("POST", path, json.dumps(data),
                               {"Content-Type": "application/json", "Accept": "application/json",
                                **(headers or {})})
            response = connection.getresponse()
            return response.status, response.headers, json.loads(response.read() or b"null")
        except ConnectionRefusedError:
            raise SystemExit(f"[!] nothing answers at {settings.SITE_URL}: is the web server running "
                             "in another terminal (python manage.py runserver), and SITE_URL its "
                             "address?") from None
        finally:
            connection.close()


def own_address():
    """127.0.0.2 when this machine can send from it to the site, else None (the default)."""
    probe = socket.socket()
    try:
        probe.bind((OWN_ADDRESS, 0))
        return OWN_ADDRESS
    except OSError:
        return None
    finally:
        probe.close()


class Command(BaseCommand):
    help = "Send 30 SMS requests at once: count accepted, refused (429) and sent per minute."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=30,
                            help="seconds to wait for the worker to send the accepted ones")

    def handle(self, *args, timeout, **options):
        require_redis(app)
        rate = api_settings.DEFAULT_THROTTLE_RATES["sms"]
        source = own_address()
        if source is None:
            print(f"[!] cannot send from {OWN_ADDRESS} here (macOS: sudo ifconfig lo0 alias "
                  f"{OWN_ADDRESS} up): sending from this machine's usual address, whose "
                  "own SMS requests are then refused for a minute too")
        client = Client(source)
        who = source or "this machine's usual address"
        print(f"[1] {REQUESTS} requests to POST /api/sms/ from {who}, one right after the other:")
        started = time.monotonic()
        accepted, refused, other, retry_after, detail = [], 0, [], None, ""
        for _ in range(REQUESTS):
            status, headers, body = client.post("/api/sms/", {"mobile": MOBILE})
            if status == 202:
                accepted.append(body["task_id"])
            elif status == 429:
                refused += 1
                if retry_after is None:
                    retry_after, detail = headers["Retry-After"], body["detail"]
            else:
                other.append(status)
        took = time.monotonic() - started
        print(f"    202 accepted: {len(accepted)}, 429 refused: {refused}"
              + (f", other: {other}" if other else "") + f", in {took:.2f} s")
        if retry_after is not None:
            print(f"    the first 429 said Retry-After: {retry_after} s, \"{detail}\"")
        key = f"throttle_sms_{source or '127.0.0.1'}"
        history = cache.get(key) or []
        print(f"    the throttle: {rate} per client (scope \"sms\"); Redis db 11 keeps the "
              f"times of the {len(history)} accepted")
        print(f"    under :1:{key} for a minute")

        forged = [client.post("/api/sms/", {"mobile": MOBILE},
                              {"X-Forwarded-For": f"203.0.113.{n}"})[0] for n in range(1, FORGED + 1)]
        print(f"[2] {FORGED} more, each claiming another address in X-Forwarded-For: "
              f"{', '.join(map(str, forged))}")
        print(f"    NUM_PROXIES = {api_settings.NUM_PROXIES}: the client is the connection's address; "
              "a header anyone can write does not count")

        print(f"[3] the worker sends the {len(accepted)} accepted SMS (send_sms has "
              f"rate_limit={send_sms.rate_limit!r}, per worker):")
        results = [AsyncResult(task_id) for task_id in accepted]
        deadline = time.monotonic() + timeout
        while not all(result.ready() for result in results):
            if time.monotonic() > deadline:
                sent = sum(result.ready() for result in results)
                raise SystemExit(f"[!] {sent} of {len(results)} sent after {timeout:g} s. Is the "
                                 "worker running (celery -A luffy_api worker -l info), against "
                                 "the same REDIS_URL?")
            time.sleep(0.2)
        done = sorted(result.date_done for result in results)
        offsets = [(when - done[0]).total_seconds() for when in done]
        print(f"    finished at {', '.join(f'+{offset:.1f} s' for offset in offsets)} after the first")
        if len(offsets) > 1 and offsets[-1] > 0:
            every = offsets[-1] / (len(offsets) - 1)
            pace = ("the rate limit, not the number of pool processes, sets the pace"
                    if send_sms.rate_limit else "no rate limit: as fast as the pool processes go")
            print(f"    sent {60 / every:.0f} a minute, one every {every:.1f} s: {pace}")
        elif len(offsets) > 1:
            print("    all at once: no rate limit held them back")
