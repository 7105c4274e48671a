"""Chapter 08's Compose profile, its `web` service run for real: chapter 05's Django site under
gunicorn, with the command line and the environment of docker-compose.yml's `web` (read from
its text; no Docker engine here), in a scratch copy of chapter 05 with its worker running.

Only the bind address changes: 0.0.0.0:8000 inside the container becomes 127.0.0.1:<free
port> (the runner's doing, as for runserver); REDIS_URL, SITE_URL and DJANGO_DB_PATH point at
this run's Redis, site and SQLite file instead of the containers'. The compose text of the
web services is checked in tests/test_08_deployment.py.
"""

from __future__ import annotations

import json
import re
import secrets
import shlex
import time
import urllib.error
import urllib.parse
import urllib.request

from tests.test_08_deployment import command_of, compose_services, leftovers

CHAPTER = "05_django_integration"
OURS = ("REDIS_URL", "SITE_URL", "DJANGO_DB_PATH")  # this run's Redis, site and file instead


def environment(block: str) -> dict[str, str]:
    """A service's `environment:` mapping, from the compose text."""
    found = re.search(r"^    environment:\n((?:      .*\n)+)", block, re.M)
    return {k: v.strip().strip('"') for k, v in re.findall(r"^      ([A-Z_]+): (.+)$", found[1], re.M)}


def request(url: str, data: dict | None = None, timeout: float = 10) -> tuple[int, dict, bytes]:
    """(status, headers, body); an HTTP error status is returned, not raised."""
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body), timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def bound(argv: list[str], address: str) -> list[str]:
    """argv with the value of its one --bind replaced by address."""
    assert argv.count("--bind") == 1, argv
    at = argv.index("--bind") + 1
    return argv[:at] + [address] + argv[at + 1:]


def test_compose_web_command_serves_the_banner_api(lab, figures):
    services = compose_services()
    argv = command_of(services["web"])
    # the compose command is chapter 05's [commands] web_production, bound inside a container
    assert argv[argv.index("--bind") + 1] == "0.0.0.0:8000", argv
    assert bound(argv, "127.0.0.1:8000") == shlex.split(lab.chapter.commands["web_production"])
    # web-migrate runs chapter 05's first step, the tables, before the site starts
    assert command_of(services["web-migrate"]) == shlex.split(lab.chapter.steps[0].run)
    env = {k: v for k, v in environment(services["web"]).items() if k not in OURS}
    assert env["DJANGO_DEBUG"] == "0" and env["DJANGO_SECRET_KEY"] == "${DJANGO_SECRET_KEY:-}", env
    env["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)  # what the learner's .env holds
    for step in lab.chapter.steps[:2]:  # migrate, load_banners: the tables and six banners
        lab.run_step(step, env=env)
    lab.start("worker", env=env)
    started = time.monotonic()
    web = lab.start("web_production", env=env, timeout=30)
    # the very command of the compose file: only the bind address is this run's own
    assert shlex.split(web.command) == bound(argv, f"127.0.0.1:{lab.site_port}"), web.command
    site = lab.site_url

    status, headers, body = request(f"{site}/api/banners/")
    took = time.monotonic() - started
    output = lambda: "\n".join(web.lines)  # noqa: E731 (gunicorn's log, for a failure)
    assert status == 200 and headers["Content-Type"] == "application/json", (status, headers, output())
    banners = json.loads(body)
    assert [b["orders"] for b in banners] == [1, 2, 3, 4], banners  # BANNER_COUNT shown banners
    assert banners[0]["title"] == "Learn Celery by running it", banners
    assert all(b["image"].startswith(f"{site}/media/banner/") for b in banners), banners
    assert headers["X-Cache"] == "MISS" and headers["X-DB-Queries"] == "1", headers
    status, headers, _ = request(f"{site}/api/banners/")
    assert status == 200 and headers["X-Cache"] == "HIT" and headers["X-DB-Queries"] == "0", headers
    # DJANGO_SERVE_MEDIA=1: with DEBUG off the banner images are still served
    status, headers, image = request(banners[0]["image"])
    assert status == 200 and headers["Content-Type"] == "image/png" and image[:4] == b"\x89PNG", status
    # DEBUG really is off: a 404 is Django's short page, not the debug page listing the URLs
    status, _, page = request(f"{site}/no-such-page/")
    assert status == 404 and b"URLconf" not in page and b"DEBUG = True" not in page, page[:300]
    # the site hands an SMS to chapter 05's worker, which sends it
    status, _, body = request(f"{site}/api/sms/", data={"mobile": "13800138000"})
    assert status == 202, body
    status_url = site + json.loads(body)["status_url"]
    deadline = time.monotonic() + 20
    while (state := json.loads(request(status_url)[2])).get("state") != "SUCCESS":
        assert time.monotonic() < deadline, f"the worker did not send the SMS within 20 s: {state}"
        time.sleep(0.2)
    assert state["result"] == "sent a 4-digit code to 138****8000", state
    assert re.search(r'"GET /api/banners/ HTTP/1\.1" 200 ', output()), output()  # --access-logfile -

    stopped = dict(lab.stop_all())  # SIGTERM, as stop_signal: gunicorn's graceful stop
    assert stopped["web_production"] == 0, output()
    assert "Shutting down: Master" in output(), output()
    assert not leftovers(lab.path)
    figures(f"compose web, 05_django_integration: gunicorn (DEBUG off) answered the banner API "
            f"{took:.1f} s after start, 4 banners, image 200, SMS sent by the worker, stopped exit 0")
