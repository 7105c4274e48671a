"""Chapter 05, run as a learner runs it: the real Django site (runserver), a real worker and
real beat, against the private Redis. The SQLite file lives in a temporary folder
(DJANGO_DB_PATH), and the runner starts the site on a free port and tells every command
where it is (SITE_URL, tour/runner.py), so nothing collides with a server the learner runs
on 8000 and nothing is left in the chapter folder."""

import fcntl
import json
import re
import shlex
import shutil
import sqlite3
import time
import urllib.error
import urllib.request

import pytest
import redis as redis_py

from tests.readme_output import assert_readme_shows, readme_text, step_differences
from tour import runner, walkthrough

CHAPTER = "05_django_integration"
REFRESH = 3  # BANNER_REFRESH_SECONDS for the tests (the README's default is 5)
SHOWN = ["Learn Celery by running it", "Redis: broker, results and cache",
         "Beat sends tasks on a schedule", "Django hands slow work to Celery"]
DEAD_REDIS = "redis://127.0.0.1:1"  # nothing listens on port 1


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory, worker_id, redis_url):
    """A database with the tables and the sample banners, copied per test. Made once per run:
    `migrate` applies some 55 migrations (Django's, django-celery-beat's and -results', the
    home app's), so the first pytest-xdist worker to need it makes it, under a lock, in the
    run's own temporary folder, and the others wait for it and take it."""
    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        shared = shared.parent  # pytest-N/, the parent of every worker's popen-gwN/
    path = shared / "ch05-template.sqlite3"
    with open(shared / "ch05-template.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            making = path.with_suffix(".making")
            # the migration makes beat's refresh-banner-cache row, every BANNER_REFRESH_SECONDS
            with runner.ChapterRun(walkthrough.find(CHAPTER), redis_url,
                                   env={"DJANGO_DB_PATH": str(making),
                                        "BANNER_REFRESH_SECONDS": str(REFRESH)}) as run:
                for command in ("python manage.py migrate", "python manage.py load_banners"):
                    done = run.run(command, timeout=120)
                    assert done.returncode == 0, done.output
            making.rename(path)
    return path


class Site:
    def __init__(self, url, db):
        self.url, self.db = url, db

    def http(self, method, path, data=None, wait=5.0):
        """(status, headers, body) of one request; waits for a server that is starting."""
        body = json.dumps(data).encode() if data is not None else None
        request = urllib.request.Request(self.url + path, data=body, method=method,
                                         headers={"Content-Type": "application/json",
                                                  "Accept": "application/json"})
        deadline = time.monotonic() + wait
        while True:
            try:
                with urllib.request.urlopen(request, timeout=20) as response:
                    return response.status, response.headers, response.read()
            except urllib.error.HTTPError as error:
                return error.code, error.headers, error.read()
            except urllib.error.URLError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def banners(self):
        status, headers, body = self.http("GET", "/api/banners/")
        assert status == 200, body
        return json.loads(body), headers

    def sql(self, statement, *params):
        with sqlite3.connect(self.db, timeout=20) as db:
            return db.execute(statement, params).fetchall()


@pytest.fixture
def site(lab, monkeypatch, tmp_path):
    """Every command and process of the test sees the same temporary SQLite file and a short
    beat interval (the runner's environment copies os.environ), and the run's own site
    address (lab.site_url, a free port)."""
    db = tmp_path / "db.sqlite3"
    monkeypatch.setenv("DJANGO_DB_PATH", str(db))
    monkeypatch.setenv("BANNER_REFRESH_SECONDS", str(REFRESH))
    return Site(lab.site_url, db)


@pytest.fixture
def loaded_site(site, migrated_db):
    shutil.copy(migrated_db, site.db)
    return site


def test_a_run_never_meets_the_learners_server(monkeypatch, redis_url):
    """A learner's server listens on 8000, Django's default (maybe with SITE_URL exported for
    it): a run starts the Procfile's web command on a free port of its own and points every
    command and process at that one (test_walkthrough checks the server really listens there)."""
    monkeypatch.setenv("SITE_URL", "http://127.0.0.1:8000")
    with runner.ChapterRun(walkthrough.find(CHAPTER), redis_url) as run:
        port = run.site_port
        assert port and port != 8000
        web = run.chapter.processes["web"]
        assert web == "python manage.py runserver --noreload"  # what the learner types
        assert run.command_line("web") == f"{web} 127.0.0.1:{port}"
        assert run.command_line("worker") == run.chapter.processes["worker"]
        assert run.site_url == run.env()["SITE_URL"] == f"http://127.0.0.1:{port}"


def test_walkthrough(lab, site):
    """Every step of the README, in order, with the Procfile's web, worker and beat (the
    schedule and results steps at the end: tests/test_05_schedules.py, processes of their own)."""
    from tests.test_05_schedules import STEPS as SCHEDULE_STEPS

    web, worker, beat = (lab.start(name) for name in ("web", "worker", "beat"))
    assert f"Starting development server at {site.url}/" in web.output()
    # beat starts before `migrate`: its schedule is in tables that are not there yet, so it
    # waits for them (luffy_api/schedulers.py) instead of exiting on "no such table"
    beat.wait_for(r"beat: waiting for the database: \d+ migrations not applied", timeout=10)
    steps = [step for step in lab.chapter.steps if step.run not in SCHEDULE_STEPS]
    outputs = {step.run.split()[2]: lab.run_step(step).output for step in steps}
    beat.wait_for(r"beat: the database is migrated, reading the schedule", timeout=10)
    # README's sample output, as it reads with the README's refresh period (5 s, not REFRESH)
    assert_readme_shows(lab.chapter, steps, list(outputs.values()),
                        as_if={rf"\b(every|at most) {REFRESH} s\b": r"\1 5 s"})

    # cache-aside through the real server: 1 query on the miss, 0 on the hit
    api = outputs["try_banner_api"]
    assert re.search(r"X-Cache: MISS, X-DB-Queries: 1,", api), api
    assert re.search(r"X-Cache: HIT, X-DB-Queries: 0,", api), api
    assert re.search(r"key deleted before each: 20 misses, 20 queries", api), api

    # the SMS view answers before the 1 s task is done, with the task's id
    sms = outputs["send_sms"]
    answered_ms = int(re.search(r"-> 202 in (\d+) ms", sms).group(1))
    assert answered_ms < 1000, sms
    task_id = re.search(r'"task_id": "([0-9a-f-]{36})"', sms).group(1)
    worker.wait_for(rf"Task home\.tasks\.send_sms\[{task_id}\] succeeded", timeout=10)

    # the transaction bug, its fix, and the rollback that sends nothing
    demo = outputs["transaction_demo"]
    assert "the worker: FAILURE, DoesNotExist: Order matching query does not exist." in demo
    assert re.search(r"COMMIT; order \d+ is in the database now, notified=False", demo), demo
    assert "texted the buyer" in demo and "notified=True" in demo
    assert worker.count(r"Task home\.tasks\.notify_order\[.*\] received") == 2, worker.output()
    assert worker.count(r"notify_order\[.*\] raised unexpected: DoesNotExist") == 1
    notified = site.sql("SELECT notified FROM home_order ORDER BY id")
    assert notified == [(0,), (1,)], notified  # the bug's order, the fix's; the rollback left none

    # beat: the old title until the refresh, the new one after it, and absolute image URLs
    change = outputs["change_banner"]
    stale = float(re.search(r"served the old title for ([\d.]+) s", change).group(1))
    assert stale <= REFRESH + 1.5, change
    assert f"image URLs in the list the worker cached: {site.url}/media/banner/" in change
    assert beat.count(r"Sending due task refresh-banner-cache") >= 1
    assert worker.count(r"refresh_banner_cache\[.*\] succeeded .*'cached 4 banners'") >= 1

    urls = outputs["image_urls"]
    assert "in the worker, where there is no request:  /media/banner/celery.png" in urls
    assert f"in a view, from the request's Host header: {site.url}/media/banner/celery.png" in urls

    bad = lab.run(lab.chapter.command("sms_bad_number"), exit=1)
    assert "[!] the view refused" in bad.output and "mobile must be" in bad.output
    # the README's "Try this" sample of it, line by line
    assert not step_differences(readme_text(lab.chapter), CHAPTER,
                                [(lab.chapter.command("sms_bad_number"), bad.output)])


def test_second_request_does_not_touch_the_database(lab, loaded_site):
    """Checked from outside: the X-DB-Queries header of the real server (web only: no beat
    can refill the cache between the two requests)."""
    lab.start("web")
    cache_db = redis_py.Redis.from_url(lab.chapter.url(lab.redis_url, "cache"))
    cache_db.flushdb()
    first, first_headers = loaded_site.banners()
    second, second_headers = loaded_site.banners()
    assert (first_headers["X-Cache"], first_headers["X-DB-Queries"]) == ("MISS", "1")
    assert (second_headers["X-Cache"], second_headers["X-DB-Queries"]) == ("HIT", "0")
    assert second_headers["X-Cache-Filled-By"] == "request"
    assert first == second and [b["title"] for b in first] == SHOWN
    assert all(b["image"].startswith(f"{loaded_site.url}/media/banner/") for b in first)
    assert json.loads(cache_db.get(":1:banner_list"))["banners"] == first  # JSON in Redis

    # no worker here: the demos give up with advice instead of waiting forever
    for command in ("python manage.py transaction_demo --timeout 1",
                    "python manage.py send_sms 13800138000 --timeout 1"):
        result = lab.run(command, exit=1, timeout=30)
        assert "[!]" in result.output and "Is the worker running" in result.output, result.output
        assert "Traceback" not in result.output
    orders = loaded_site.sql("SELECT count(*) FROM home_order")
    assert orders == [(0,)]  # the demo's transaction was rolled back when it gave up


def test_beat_refresh_serves_old_then_new(lab, loaded_site):
    """A change made in the database alone shows up at beat's next refresh, not before."""
    lab.start("web")
    worker = lab.start("worker")
    lab.start("beat")
    refreshed = r"refresh_banner_cache\[.*\] succeeded"
    worker.wait_for(refreshed, timeout=REFRESH + 10)  # just refreshed: the next one is ~3 s away
    loaded_site.sql("UPDATE home_banner SET title = 'Changed behind the cache' WHERE orders = 1")
    mark = worker.mark()
    banners, headers = loaded_site.banners()
    assert banners[0]["title"] == SHOWN[0], "served the new title before any refresh"
    assert (headers["X-Cache"], headers["X-Cache-Filled-By"], headers["X-DB-Queries"]) == (
        "HIT", "beat", "0")
    worker.wait_for(refreshed, timeout=REFRESH + 10, since=mark)
    banners, headers = loaded_site.banners()
    assert banners[0]["title"] == "Changed behind the cache"
    assert headers["X-Cache-Filled-By"] == "beat" and headers["X-DB-Queries"] == "0"
    assert all(b["image"].startswith(f"{loaded_site.url}/media/banner/") for b in banners)


def test_browser_shows_every_banner(lab, loaded_site, browser):
    """Headless Chromium loads the home page: every banner is there and its image loaded."""
    # without the web server, the commands say so instead of hanging
    nobody = lab.run("python manage.py try_banner_api", exit=1, timeout=30)
    assert f"[!] nothing answers at {loaded_site.url}" in nobody.output

    lab.start("web")
    lab.start("worker")
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    page.goto(loaded_site.url + "/")
    page.wait_for_function("document.querySelectorAll('.slide img').length === 4")
    page.wait_for_function("[...document.querySelectorAll('.slide img')]"
                           ".every(img => img.complete && img.naturalWidth > 0)",
                           timeout=10_000)
    titles = page.locator(".slide .caption").all_text_contents()
    assert titles == SHOWN
    widths = page.eval_on_selector_all(".slide img", "imgs => imgs.map(i => i.naturalWidth)")
    assert widths == [960] * 4, widths
    sources = page.eval_on_selector_all(".slide img", "imgs => imgs.map(i => i.src)")
    assert all(src.startswith(f"{loaded_site.url}/media/banner/") for src in sources)
    assert "X-Cache:" in page.inner_text("#cache-info")
    page.click("#sms-form button")  # the SMS form: 202 with a task id, then SUCCESS
    page.wait_for_function("document.querySelector('#sms-log').textContent"
                           ".includes('SUCCESS')", timeout=15_000)
    assert "202 in" in page.inner_text("#sms-log")


def test_redis_down_is_503_and_one_line(lab, loaded_site):
    """With nothing at REDIS_URL the API and SMS views answer 503 with a sentence (no
    traceback page), the home page still renders, and each command says so in one line."""
    lab.start("web", redis_url=DEAD_REDIS)
    status, _, body = loaded_site.http("GET", "/")
    assert status == 200
    for method, path, data in (("GET", "/api/banners/", None),
                               ("POST", "/api/sms/", {"mobile": "13800138000"})):
        started = time.monotonic()
        status, headers, body = loaded_site.http(method, path, data)
        assert status == 503, body[:500]
        assert time.monotonic() - started < 10
        assert headers["Content-Type"] == "application/json"
        assert json.loads(body)["detail"] == (  # the README's Pitfalls say exactly this
            f"Redis is not answering at {DEAD_REDIS}. Start it with `make redis`, then try again.")
    for step in lab.chapter.steps[1:]:  # all but migrate, which needs no Redis
        result = lab.run(step.run, exit=1, timeout=30, redis_url=DEAD_REDIS)
        assert result.seconds < 10, (step.run, result.seconds)
        lines = result.output.splitlines()
        assert [line for line in lines if line.startswith("[!]")] == lines[-1:], result.output
        assert f"[!] Redis is not answering at {DEAD_REDIS} " in lines[-1]
        assert "make redis" in lines[-1] and "Traceback" not in result.output


def test_debug_off_refuses_the_development_key(lab, site):
    """DJANGO_DEBUG=0 without DJANGO_SECRET_KEY stops at start-up, naming what to set."""
    result = lab.run("python manage.py check", exit=1, env={"DJANGO_DEBUG": "0"})
    assert "DJANGO_DEBUG is off but DJANGO_SECRET_KEY is not set" in result.output
    ok = lab.run("python manage.py check", env={"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "x" * 50})
    assert "System check identified no issues" in ok.output


# --- the lesson's own code, verbatim (its Chinese comments left out), in the scratch copy ---

# the lesson's "Celery in Django: asynchronous tasks", step 2: "in a view, write it as usual"
LESSON_VIEW = '''from django.core.cache import cache

from celery_task.user_task import send_sms


def test(request):
    mobile = request.GET.get("mobile")
    code = "9999"
    res = send_sms.delay(mobile, code)
    print(res)
    return HttpResponse(res)
'''

# the lesson's "the home-page banners in the cache": luffy_api/apps/home/views.py
LESSON_BANNER_VIEW = '''from django.shortcuts import render
from rest_framework.viewsets import GenericViewSet, ViewSetMixin
from rest_framework.mixins import ListModelMixin
from rest_framework.generics import ListAPIView
from . import models
from . import serializer

from django.conf import settings

from django.core.cache import cache
from rest_framework.response import Response


class BannerView(ViewSetMixin, ListAPIView):
    queryset = models.Banner.objects.all().filter(is_delete=False, is_show=True).order_by('orders')[
               :settings.BANNER_COUNT]
    serializer_class = serializer.BannerSerializer

    def list(self, request, *args, **kwargs):
        banner_list = cache.get("banner_list_cache")
        if not banner_list:
            print("走了数据库")
            res = super().list(request, *args, **kwargs)
            banner_list = res.data
            cache.set("banner_list_cache", banner_list)
        return Response(data=banner_list)
'''

# the lesson's "the banners refreshed by beat": using Django in a script (and in its tasks)
LESSON_SETUP = '''import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "luffy_api.settings.dev")
import django
django.setup()
'''

CALL_VIEW = """
from celery.result import AsyncResult
from django.test import RequestFactory
from home.lesson_view import test
response = test(RequestFactory(HTTP_HOST="127.0.0.1").get("/test/", {"mobile": "13800138000"}))
body = response.content.decode()
print("BODY", response.status_code, body)
print("RESULT", AsyncResult(body).get(timeout=20))
"""

CALL_BANNER_VIEW = """
import json
import shlex
from django.core.cache import cache
from django.db import connection, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from home.lesson_banner_view import BannerView
from home.models import Banner
view = BannerView.as_view({"get": "list"})
request = RequestFactory(HTTP_HOST="127.0.0.1:8000").get("/api/banner/")
def call():
    with CaptureQueriesContext(connection) as queries:
        data = view(request).data
    return [[b["title"], b["image"]] for b in data], len(queries)
cache.delete("banner_list_cache")
calls = [call(), call()]
ttl = cache.ttl("banner_list_cache")
with transaction.atomic():
    Banner.objects.update(is_show=False)
    cache.delete("banner_list_cache")
    empty = [call(), call()]
    transaction.set_rollback(True)
cache.delete("banner_list_cache")
print("OUT", json.dumps({"calls": calls, "ttl": ttl, "empty": empty}))
"""


def manage_shell(code):
    return f"python manage.py shell -c {shlex.quote(code)}"


def last_line(output, mark):
    return next(line for line in reversed(output.splitlines()) if line.startswith(mark))


def test_lessons_calls_view_sends_the_sms_and_the_settings_lines(lab, loaded_site):
    """The lesson's test(request) view and its django.setup() lines, against the real worker.
    Its import fails here (no celery_task package: the lesson copied its own into the
    project); with this project's task (home/lesson_views.py) the view works as written,
    once HttpResponse is imported (the lesson's snippet does not show that import). Its
    settings name fails here ("luffy_api.settings" is a module, not a package); and in a task
    module the lines change nothing: the worker runs them and works."""
    folder = lab.path / "home"
    # the lesson's settings lines at the top of the task module, as the lesson puts them
    tasks = folder / "tasks.py"
    tasks.write_text(LESSON_SETUP + tasks.read_text())
    worker = lab.start("worker")

    (folder / "lesson_view.py").write_text(LESSON_VIEW)
    missing = lab.run(manage_shell(CALL_VIEW), exit=1)
    assert "ModuleNotFoundError: No module named 'celery_task'" in missing.output

    fixed = LESSON_VIEW.replace("from celery_task.user_task import send_sms",
                                "from home.tasks import send_sms")
    assert "from .tasks import send_sms" in (folder / "lesson_views.py").read_text()
    (folder / "lesson_view.py").write_text(fixed)
    unimported = lab.run(manage_shell(CALL_VIEW), exit=1)
    assert "NameError: name 'HttpResponse' is not defined" in unimported.output

    (folder / "lesson_view.py").write_text("from django.http import HttpResponse\n" + fixed)
    works = lab.run(manage_shell(CALL_VIEW), timeout=60).output
    status, task_id = last_line(works, "BODY ").split()[1:]
    assert status == "200" and re.fullmatch(r"[0-9a-f-]{36}", task_id), works
    assert task_id in works.splitlines()  # the view's print(res)
    assert last_line(works, "RESULT ") == "RESULT sent a 4-digit code to 138****8000", works
    worker.wait_for(rf"Task home\.tasks\.send_sms\[{task_id}\] succeeded", timeout=10)
    assert "SMS to 138****8000: your code is 9999" in worker.output()

    # as a script: the lesson's module name fails; this project's works
    script = lab.run(f"python -c {shlex.quote(LESSON_SETUP)}", exit=1)
    assert ("ModuleNotFoundError: No module named 'luffy_api.settings.dev'; "
            "'luffy_api.settings' is not a package") in script.output
    ours = LESSON_SETUP.replace("luffy_api.settings.dev", "luffy_api.settings")
    counted = lab.run(f"python -c {shlex.quote(ours + 'from home.models import Banner; print(Banner.objects.count())')}")
    assert counted.output.strip().splitlines()[-1] == "6", counted.output


def test_lessons_calls_cached_banner_view(lab, loaded_site):
    """The lesson's BannerView.list() verbatim: `from . import serializer` fails here (this
    project's module is serializers.py, and the lesson's BannerSerializer, a plain
    ModelSerializer, is LessonBannerSerializer); given that module, the view caches its list
    under "banner_list_cache": 1 query, then 0, for Django's default 300 s, and an empty
    list is queried every time (`if not banner_list`)."""
    folder = lab.path / "home"
    (folder / "lesson_banner_view.py").write_text(LESSON_BANNER_VIEW)
    missing = lab.run(manage_shell(CALL_BANNER_VIEW), exit=1)
    assert "ImportError: cannot import name 'serializer' from 'home'" in missing.output

    # the lesson's serializer.py, which it does not show: the chapter's LessonBannerSerializer
    (folder / "serializer.py").write_text(
        "from .serializers import LessonBannerSerializer as BannerSerializer\n")
    done = lab.run(manage_shell(CALL_BANNER_VIEW)).output
    out = json.loads(last_line(done, "OUT ")[4:])
    (first, first_queries), (second, second_queries) = out["calls"]
    assert [title for title, _ in first] == SHOWN and first == second, out
    assert (first_queries, second_queries) == (1, 0), out
    assert first[0][1] == "http://127.0.0.1:8000/media/banner/celery.png"  # from the request
    assert done.count("走了数据库") == 3, done  # the miss, and both empty-list calls
    assert 290 <= out["ttl"] <= 300, out  # no timeout given: Django's default, 300 s
    assert out["empty"] == [[[], 1], [[], 1]], out  # [] is cached, and taken for a miss
