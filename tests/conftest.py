"""Fixtures shared by every chapter's tests.

- a private Redis server for the whole session (free port, temporary folder): the tests
  never touch a Redis the learner runs;
- `lab`: runs the current chapter's commands in its folder exactly as a learner types them
  (the commands come from the chapter's steps.toml / Procfile), starts real celery worker
  and beat processes, and stops everything afterwards.
"""

from __future__ import annotations

import os
import re
import urllib.request
import uuid
from pathlib import Path

import psutil
import pytest
import redis as redis_py

from tour import procs, walkthrough
from tour.redis_server import RedisServer

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"  # Debian's package; .ci/run installs it
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-crash-reporter", "--disable-breakpad"]  # no crash handler left behind
LEFTOVERS = (".last_task_id", "celerybeat-schedule", "celerybeat-schedule.db",
             "celerybeat-schedule.dat", "celerybeat-schedule.dir", "celerybeat-schedule.bak")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory) -> RedisServer:
    server = RedisServer.start(tmp_path_factory.mktemp("redis"))
    os.environ["REDIS_URL"] = server.url  # anything the tests import points here, too
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_url(redis_server) -> str:
    return redis_server.url


class Lab:
    """One chapter, run like a learner runs it, against the private Redis."""

    def __init__(self, chapter: walkthrough.Chapter, redis_url: str, tidy: bool = True):
        """tidy: start and end without the files a run leaves in the chapter folder (a beat
        schedule from an earlier run would make beat send everything at once at start).
        Only the chapter's own test module tidies: other modules may run at the same time."""
        self.chapter = chapter
        self.redis_url = redis_url
        self.procs: list[procs.Proc] = []
        self.tidy = tidy
        self.remove_leftovers()

    def env(self, extra: dict[str, str] | None = None, redis_url: str | None = None) -> dict:
        return procs.chapter_env(redis_url or self.redis_url,
                                 {"PYTHONDONTWRITEBYTECODE": "1", **(extra or {})})

    def start(self, key: str, *, env: dict[str, str] | None = None, ready: bool = True,
              redis_url: str | None = None) -> procs.Proc:
        """Start a Procfile process or a named command; for a worker, wait for its ping."""
        command = self.chapter.command(key)
        proc = procs.Proc(key, command, self.chapter.path, self.env(env, redis_url)).start()
        self.procs.append(proc)
        if ready and key in self.chapter.ready:
            proc.wait_for(self.chapter.ready[key], timeout=60)
        elif ready and " worker" in command:
            proc.wait_for(r"ready\.", timeout=60)
            procs.worker_answers_ping(self.chapter.broker_url(redis_url or self.redis_url))
        return proc

    def run(self, command: str, *, exit: int | None = 0, timeout: float = 60,
            env: dict[str, str] | None = None, redis_url: str | None = None) -> procs.StepResult:
        """Run a learner command to completion and check its exit code (None: any)."""
        result = procs.run_step(command, self.chapter.path, self.env(env, redis_url), timeout)
        assert not result.timed_out, f"`{command}` still running after {timeout} s:\n{result.output}"
        if exit is not None:
            assert result.returncode == exit, (
                f"`{command}` exited {result.returncode}, expected {exit}:\n{result.output}")
        return result

    def run_step(self, step: walkthrough.Step, env: dict[str, str] | None = None) -> procs.StepResult:
        """Run a walkthrough step and check it the way the tour does."""
        result = self.run(step.run, exit=step.exit, timeout=step.timeout, env=env)
        for pattern in step.expect:
            assert re.search(pattern, result.output, re.MULTILINE), (
                f"`{step.run}`: no line matches {pattern!r} in:\n{result.output}")
        return result

    def stop(self, proc: procs.Proc) -> int | None:
        self.procs.remove(proc)
        return proc.stop()

    def close(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()
        self.procs.clear()
        self.remove_leftovers()

    def remove_leftovers(self) -> None:
        for name in LEFTOVERS if self.tidy else ():
            (self.chapter.path / name).unlink(missing_ok=True)


@pytest.fixture
def lab(request, redis_url) -> Lab:
    """The chapter named by the test module's CHAPTER, on an empty private Redis."""
    client = redis_py.Redis.from_url(redis_url)
    client.flushall()
    client.close()
    chapter = walkthrough.load(ROOT / request.module.CHAPTER)
    lab = Lab(chapter, redis_url)
    yield lab
    lab.close()


@pytest.fixture
def browser():
    """Debian's headless Chromium, driven by Playwright (no browser download)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's Chromium with "
                    "`apt-get install -y --no-install-recommends chromium` (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()



# --- the tour as a subprocess: find every process it started, even after it exited --------
def tour_env(redis_url):
    """The tour's environment, with a unique mark every process it starts inherits."""
    return {**os.environ, "REDIS_URL": redis_url, "AUTO": "1", "TOUR_TEST_MARK": uuid.uuid4().hex}


def marked(env):
    """Processes still alive that carry this run's mark in their environment."""
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.environ().get("TOUR_TEST_MARK") == env["TOUR_TEST_MARK"]:
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            pass
    return found


# --- Flower, the live dashboard: configured through FLOWER_* variables -----------------------
def flower_env(port: int, scratch: Path | None = None) -> dict[str, str]:
    """Flower reads its options from FLOWER_* variables: the Procfile command stays the same.
    scratch: a folder for the databases a chapter's app opens when it is imported."""
    env = {"FLOWER_PORT": str(port), "FLOWER_UNAUTHENTICATED_API": "true"}
    if scratch:
        env.update(private_databases(scratch))
    return env


def private_databases(folder: Path) -> dict[str, str]:
    """Chapters 05 and 06 keep SQLite files in their folder by default; tests put them here."""
    return {"DJANGO_DB_PATH": str(folder / "django.sqlite3"), "SQLITE_PATH": str(folder / "shop.sqlite3")}


def http_get(url: str, timeout: float = 5) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read().decode()


# --- figures: what the drills and checks measured, shown at the end of every run ------------
@pytest.fixture
def figures(record_property):
    """Call figures("...") to show a measured line in the run's closing summary (it travels
    from pytest-xdist's worker processes with the test report)."""
    return lambda line: record_property("figures", line)


def pytest_terminal_summary(terminalreporter):
    lines = [value for report in terminalreporter.stats.get("passed", []) + terminalreporter.stats.get("failed", [])
             if report.when == "call"
             for name, value in report.user_properties if name == "figures"]
    if lines:
        terminalreporter.section("figures measured in this run")
        for line in sorted(lines):
            terminalreporter.write_line(line)


# --- the suite leaves nothing behind in the chapter folders ----------------------------------
def chapter_files() -> set[Path]:
    return {path for chapter in walkthrough.chapters() for path in chapter.path.rglob("*")
            if "__pycache__" not in path.parts}


def pytest_sessionstart(session):
    if not hasattr(session.config, "workerinput"):  # the main pytest process only
        session.config._chapter_files_before = chapter_files()


def pytest_sessionfinish(session, exitstatus):
    before = getattr(session.config, "_chapter_files_before", None)
    if before is None:
        return
    left = sorted(str(path.relative_to(ROOT)) for path in chapter_files() - before)
    if left:
        print(f"\n[tests] left behind in the chapter folders: {', '.join(left)}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
