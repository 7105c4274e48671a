"""Redis database numbers are one checked fact.

Each chapter declares its databases once, by role, in steps.toml (`databases = { broker = 1,
backend = 2 }`), and bench in bench/tasks.py (`DATABASES`, on bench's own server). These tests fail when
- a chapter's source appends a database to REDIS_URL that it does not declare, or declares
  one it never uses;
- a chapter's app, imported as the worker imports it, sends or stores anywhere else;
- two chapters, or a chapter and bench, share a database (`make bench` would empty another
  chapter's queue), or a number is outside a default Redis's 16 databases.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from itertools import combinations

import pytest

from bench import harness
from tour import runner, walkthrough

CHAPTERS = walkthrough.chapters()
DOWN = "redis://127.0.0.1:1"  # importing an app connects to nothing
APPENDED = re.compile(r"\{REDIS_URL\}/(\d+)")

# Imports the chapter's app the way `celery -A <app>` does, then reports the database of
# every Redis URL it ended up with: the app's broker and backend, Django's caches, and any
# module-level URL of the chapter's own modules (chapter 06's cache, say).
USED = """
import json, sys
from pathlib import Path
from celery.app.utils import find_app
app = find_app({app!r})
here = Path.cwd()
found = {{"broker": app.conf.broker_url, "backend": app.conf.result_backend}}
try:
    from django.conf import settings
    if settings.configured:
        for name, cache in settings.CACHES.items():
            found["django cache " + name] = cache.get("LOCATION", "")
except ImportError:
    pass
for module in list(sys.modules.values()):
    if str(getattr(module, "__file__", "") or "").startswith(str(here)):
        for key, value in vars(module).items():
            if isinstance(value, str) and value.startswith({down!r} + "/"):
                found[module.__name__ + "." + key] = value
print(json.dumps(found))
"""


def declared(chapter) -> set[int]:
    return set(chapter.databases.values())


def bench_databases() -> set[int]:
    from bench import tasks
    return set(tasks.DATABASES.values())


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda ch: ch.name)
def test_the_source_appends_exactly_the_declared_databases(chapter):
    used = {int(n) for path in chapter.path.rglob("*.py")
            for n in APPENDED.findall(path.read_text(encoding="utf-8"))}
    assert used == declared(chapter), (
        f"{chapter.name}: the code appends {sorted(used)} to REDIS_URL, steps.toml declares "
        f"{chapter.databases}")


# `celery -A <app>` as a Procfile or steps.toml line has it, or as a script builds it for the
# worker it starts: ["celery", "-A", "drill_app", "worker", ...] (not an f-string's `-A x:{name}`)
APP_OPTION = re.compile(r"""-A\s+([\w.]+(?::\w+)?)(?![\w:{])|["']-A["'],\s*["']([\w.]+(?::\w+)?)["']""")


def apps_of(chapter) -> list[str]:
    """The chapter's app, and every other app a worker of the chapter is started with (the
    visibility-timeout apps of chapter 03, the drills' app of chapter 02)."""
    found = [chapter.app]
    # the commands themselves (not the comments of steps.toml), then the scripts' source
    texts = [*chapter.processes.values(), *chapter.commands.values(),
             *(step.run for step in chapter.steps)]
    texts += [path.read_text(encoding="utf-8") for path in sorted(chapter.path.glob("*.py"))]
    for text in texts:
        found += [a or b for a, b in APP_OPTION.findall(text)]
    return list(dict.fromkeys(found))


APPS = [(chapter, app) for chapter in CHAPTERS for app in apps_of(chapter)]


@pytest.mark.parametrize("chapter, app", APPS, ids=[f"{ch.name}-{app}" for ch, app in APPS])
def test_the_app_uses_its_declared_databases(chapter, app):
    with runner.ChapterRun(chapter, DOWN) as run:
        done = subprocess.run([sys.executable, "-c", USED.format(app=app, down=DOWN)],
                              cwd=run.path, env=run.env(), capture_output=True, text=True,
                              timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    urls = json.loads(done.stdout.strip().splitlines()[-1])
    assert urls.pop("broker") == chapter.url(DOWN, "broker"), f"{chapter.name}: {app}"
    assert urls.pop("backend") == chapter.url(DOWN, "backend"), f"{chapter.name}: {app}"
    for where, url in urls.items():
        number = int(url.rsplit("/", 1)[1])
        assert number in declared(chapter), f"{chapter.name}: {where} uses database {number}"


def test_every_app_a_chapter_starts_is_checked():
    """Chapter 02's drills start workers of their own app (drill_app.py), chapter 03's trap
    two apps of its own: each is checked above like the chapter's app."""
    by_name = {chapter.name: apps_of(chapter) for chapter in CHAPTERS}
    assert by_name["02_package_layout"] == ["celery_task", "drill_app", "drill_app:patient",
                                            "drill_app:soft"], by_name["02_package_layout"]
    assert {"visibility_apps:short", "visibility_apps:fixed"} <= set(by_name["03_delay_tasks"])


def test_bench_uses_its_declared_databases():
    from bench import tasks
    broker = int(tasks.app.conf.broker_url.rsplit("/", 1)[1])
    backend = int(tasks.app.conf.result_backend.rsplit("/", 1)[1])
    assert {broker, backend} <= bench_databases()


def test_no_two_owners_share_a_database():
    # a chapter with own_servers (09) keeps its databases on the servers its scripts start
    owners = {ch.name: declared(ch) for ch in CHAPTERS if not ch.own_servers}
    owners["bench"] = bench_databases()
    for (a, first), (b, second) in combinations(owners.items(), 2):
        assert not first & second, f"{a} and {b} both use database(s) {sorted(first & second)}"
    for owner, numbers in owners.items():  # chapters run on the learner's default Redis;
        top = harness.SERVER_DATABASES if owner == "bench" else 16  # bench starts its own
        assert numbers and all(0 <= n < top for n in numbers), f"{owner}: {sorted(numbers)}"
