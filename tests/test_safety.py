"""Safe defaults and Redis-down behaviour, checked across every chapter.

- Redis down: every chapter command a learner runs (scripts, `celery inspect`, Django
  management commands) answers within 10 s with one clear line and a non-zero exit.
- JSON only: every chapter's app accepts JSON and nothing else, and retries its broker
  connection at start-up.
- A malformed REDIS_URL is named in one line by every chapter's scripts; the worker
  ends with Celery's own error naming it.
(A password in REDIS_URL: tests/test_01_quickstart.py.)
"""

import json
import re
import subprocess
import sys

import pytest

from tests.conftest import Lab
from tour import runner, walkthrough

CHAPTERS = walkthrough.chapters()
DOWN = "redis://127.0.0.1:1"  # nothing listens on port 1

# Commands that never talk to Redis, or that own their Redis, with the reason.
NO_REDIS = {
    "python drill_redis_restart.py": "starts its own Redis on a spare port",
    "python drill_redis_outage.py": "starts its own Redis on a spare port",
    "python naive_eta.py": "computes when naive and aware ETAs fall, without sending",
    "python preview.py": "computes fire times with Celery's schedule objects, offline",
    "python aps_demo.py --seconds 3": "APScheduler runs jobs in its own process, no Redis",
    "python manage.py migrate": "creates the SQLite tables; Redis is not involved",
    "celery worker -A celery_task -l info": "the lesson's Celery 4 order: Celery 5 refuses it "
                                            "before it connects (chapter 01 shows it, exit 2)",
    # chapter 08: celery multi, as deploy/celery-worker.service runs it
    "celery multi start supervised -A celery_task -l info -Q supervised -c 4 "
    "--prefetch-multiplier=1 --pidfile=deploy/%n.pid --logfile=deploy/%n%I.log --no-color":
        "detaches a worker and returns before it connects; the worker, like the Procfile's, "
        "keeps retrying Redis (run here, it would stay behind)",
    "celery multi stopwait supervised -A celery_task --pidfile=deploy/%n.pid --no-color":
        "reads pid files and sends signals: Redis is not involved",
    # chapter 09
    "python rabbitmq_vs_redis.py": "starts its own redis-server and RabbitMQ node on spare "
                                   "loopback ports; REDIS_URL is not read",
}


def learner_commands(chapter):
    """Every command of the chapter that runs to completion (not the long-running ones)."""
    commands = [s.run for s in chapter.steps] + list(chapter.commands.values())
    seen = []
    for command in commands:
        if runner.is_long_running(chapter, command) or command in NO_REDIS or command in seen:
            continue
        seen.append(command)
    return seen


# Chapter 09 (own_servers) uses no REDIS_URL: its scripts start the servers they talk to, and
# its drills take those away on purpose (a host cut off, a primary killed).
ON_THE_LEARNERS_REDIS = [chapter for chapter in CHAPTERS if not chapter.own_servers]


@pytest.mark.parametrize("chapter", ON_THE_LEARNERS_REDIS, ids=lambda ch: ch.name)
def test_redis_down_gives_one_clear_line_everywhere(chapter, figures):
    checked = []
    with Lab(chapter, DOWN) as lab:
        results = [(command, lab.run(command, exit=None, timeout=30))
                   for command in learner_commands(chapter)]
    for command, result in results:
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert result.returncode != 0, f"{chapter.name}: `{command}` exited 0 with Redis down"
        assert result.seconds <= 10, f"{chapter.name}: `{command}` took {result.seconds:.1f} s"
        assert "Traceback" not in result.output, f"{chapter.name}: `{command}`:\n{result.output}"
        assert "127.0.0.1:1" in lines[-1], f"{chapter.name}: `{command}` last line: {lines[-1]!r}"
        checked.append((command, round(result.seconds, 1)))
    assert checked, f"{chapter.name}: no command was checked"
    figures(f"Redis down, {chapter.name}: {len(checked)} commands tried, each one line and a "
            f"non-zero exit, slowest {max(s for _, s in checked)} s")


APP_SETTINGS = """
import json
from celery.app.utils import find_app
app = find_app({app!r})
conf = app.conf
print(json.dumps({{
    "accept_content": sorted(conf.accept_content),
    "task_serializer": conf.task_serializer,
    "result_serializer": conf.result_serializer,
    "retry_on_startup": conf.broker_connection_retry_on_startup,
}}))
"""


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda ch: ch.name)
def test_every_app_accepts_json_only(chapter, redis_url):
    with runner.ChapterRun(chapter, redis_url) as run:
        done = subprocess.run([sys.executable, "-c", APP_SETTINGS.format(app=chapter.app)],
                              cwd=run.path, env=run.env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    settings = json.loads(done.stdout.strip().splitlines()[-1])
    assert settings == {"accept_content": ["json"], "task_serializer": "json",
                        "result_serializer": "json", "retry_on_startup": True}, chapter.name


def test_compose_publishes_only_on_loopback_and_keeps_the_queue():
    compose = (walkthrough.ROOT / "docker-compose.yml").read_text()
    published = re.findall(r'^\s*- "([^"]+)"\s*$', compose, re.MULTILINE)
    ports = [p for p in published if p.count(":") == 2]
    assert ports and all(p.startswith("127.0.0.1:") for p in ports), ports
    assert '"--appendonly", "yes"' in compose


@pytest.mark.parametrize("chapter", ON_THE_LEARNERS_REDIS, ids=lambda ch: ch.name)
def test_malformed_redis_url_is_named(chapter, figures):
    """A REDIS_URL without the scheme (a common slip) is called malformed, worker included."""
    worker = next(c for c in chapter.processes.values() if runner.is_worker(c))
    # the chapter's first script (chapter 02 begins with `celery ... inspect`, which is
    # Celery's own command: it says "Could not connect ... Name or service not known", exit 69)
    script = next(c for c in learner_commands(chapter) if c.startswith("python "))
    with Lab(chapter, "localhost:6379") as lab:  # the apps exit at import
        results = [(command, lab.run(command, exit=None, timeout=30))
                   for command in (script, worker)]
    for command, result in results:
        assert result.returncode == 1, f"{chapter.name}: `{command}`:\n{result.output}"
        last = result.output.strip().splitlines()[-1]
        # A script says it in one line (redis_check.py). The app module the worker loads holds
        # no guard (issue 10: the app, its settings, its tasks), so the worker ends with
        # Celery's own error, which the chapter README's table explains.
        named = last.startswith("[!] REDIS_URL is malformed") or (
            runner.is_worker(command) and last == "ModuleNotFoundError: No module named 'localhost'")
        assert named, f"{chapter.name}: `{command}`:\n{result.output}"
    figures(f"malformed REDIS_URL, {chapter.name}: {len(results)} of {len(results)} commands "
            f"(a script and the worker) named it, exit 1, slowest "
            f"{max(r.seconds for _, r in results):.1f} s")
