"""A tiny HTTP client: the management commands talk to the running site (SITE_URL) like a
browser would."""

import json
import sys
import time
import urllib.error
import urllib.request

from django.conf import settings


class Reply:
    def __init__(self, status, headers, body, ms):
        self.status, self.headers, self.body, self.ms = status, headers, body, ms

    def json(self):
        return json.loads(self.body)

    @property
    def text(self):
        return self.body.decode(errors="replace")


def call(method, path, data=None, wait_for_server=3.0):
    """Send one HTTP request to SITE_URL + path; return a Reply (status, headers, body bytes, ms).
    Waits up to wait_for_server seconds for a server that is still starting."""
    url = settings.SITE_URL + path
    body = json.dumps(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, method=method,
                                     headers={"Content-Type": "application/json",
                                              "Accept": "application/json"})
    deadline = time.monotonic() + wait_for_server
    while True:
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                content = response.read()
                status, headers = response.status, response.headers
        except urllib.error.HTTPError as error:  # 4xx/5xx: still an answer
            content, status, headers = error.read(), error.code, error.headers
        except urllib.error.URLError:
            if time.monotonic() < deadline:
                time.sleep(0.2)
                continue
            sys.exit(f"[!] nothing answers at {settings.SITE_URL}: is the web server running "
                     "in another terminal (python manage.py runserver), and SITE_URL its "
                     "address?")
        ms = (time.perf_counter() - started) * 1000
        return Reply(status, headers, content, ms)
