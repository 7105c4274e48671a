"""Fixtures shared by every chapter's tests.

- `redis_server`: a private Redis for the whole session (free port, temporary folder), one
  per pytest-xdist worker process: the tests never touch a Redis the learner runs, and two
  tests running side by side never share one;
- `lab`: the test module's chapter, run through the tour's runner (tour/runner.py) in a
  scratch copy of its folder, exactly as a learner types the commands, with real worker,
  beat and web processes, stopped afterwards;
- `browser`: headless Chromium (found or installed by `make test`, see tour/provision.py);
- the session fails if a chapter folder differs afterwards from what it was before.
"""

from __future__ import annotations

import hashlib
import os
import re
import urllib.request
import uuid
from pathlib import Path

import psutil
import pytest
import redis as redis_py

from tour import procs, provision, runner, walkthrough
from tour.redis_server import RedisServer

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory) -> RedisServer:
    server = RedisServer.start(tmp_path_factory.mktemp("redis"))
    os.environ["REDIS_URL"] = server.url  # anything the tests import points here, too
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_url(redis_server) -> str:
    return redis_server.url


# Every command a test ran through a Lab: at the end of a whole-suite run, every step,
# Procfile line and [commands] entry of every chapter must be among them.
RAN: set[str] = set()  # "<chapter>: <command>"


class Lab(runner.ChapterRun):
    """One chapter in a scratch copy, run like a learner runs it, against the private Redis:
    the runner's ChapterRun, with each command's exit code and each step's checks asserted."""

    def start(self, key: str, **options) -> procs.Proc:
        RAN.add(f"{self.chapter.name}: {self.chapter.command(key)}")
        return super().start(key, **options)

    def run(self, command: str, *, exit: int | None = 0, timeout: float = 60,
            env: dict[str, str] | None = None, redis_url: str | None = None) -> procs.StepResult:
        """Run a learner command to completion and check its exit code (None: any)."""
        RAN.add(f"{self.chapter.name}: {command}")
        result = super().run(command, timeout=timeout, env=env, redis_url=redis_url)
        assert not result.timed_out, f"`{command}` still running after {timeout} s:\n{result.output}"
        if exit is not None:
            assert result.returncode == exit, (
                f"`{command}` exited {result.returncode}, expected {exit}:\n{result.output}")
        return result

    def run_step(self, step: walkthrough.Step, env: dict[str, str] | None = None) -> procs.StepResult:
        """Run a walkthrough step and judge it the way the tour does."""
        RAN.add(f"{self.chapter.name}: {step.run}")
        result, problems = super().run_step(step, env=env)
        assert not problems, f"`{step.run}`: {'; '.join(problems)}:\n{result.output}"
        return result


@pytest.fixture
def lab(request, redis_url) -> Lab:
    """The chapter named by the test module's CHAPTER, its Redis databases emptied first (only
    its own: other chapters' tests may be running at the same time)."""
    chapter = walkthrough.load(ROOT / request.module.CHAPTER)
    for role in chapter.databases:
        client = redis_py.Redis.from_url(chapter.url(redis_url, role))
        client.flushdb()
        client.close()
    with Lab(chapter, redis_url) as lab:
        yield lab


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The Chromium `make test` provided (tour/provision.py); fails, never skips, without one."""
    path = provision.chromium()
    if path is None:
        pytest.fail(provision.CHROMIUM_MISSING)
    return path


@pytest.fixture
def browser(chromium_path):
    """Headless Chromium, driven by Playwright (Debian's, or the one Playwright installed)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path,
                                              args=provision.CHROMIUM_ARGS)
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
def flower_env(port: int) -> dict[str, str]:
    """Flower reads its options from FLOWER_* variables: the Procfile command stays the same."""
    return {"FLOWER_PORT": str(port), "FLOWER_UNAUTHENTICATED_API": "true"}


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


# --- make test CH=NN: one chapter's tests, with the structural checks for it -------------------
NOT_A_CHAPTER = ("test_bench.py", "test_redis_provisioning.py")


# The tests that wait longest start first, so that none is left running alone at the end
# (pytest-xdist hands tests out in this order). Measured with --durations: the drills, the
# walkthroughs and the tour take 15-65 s, most others a few seconds.
SLOW_FIRST = ("drill_redis_outage", "test_03_delay_tasks.py::test_walkthrough",
              "test_03_delay_tasks.py::test_lessons_calls", "tour_runs",
              "drill", "walkthrough", "password", "readme_failures", "flower_lists", "browser",
              "both_ways", "make_check_prints")


def slowness(item) -> int:
    for rank, part in enumerate(SLOW_FIRST):
        if part in item.nodeid:
            return rank
    return len(SLOW_FIRST)


def one_quick_after_each_slow(items) -> list:
    """The slow tests first, each followed by a quick one. pytest-xdist's worker takes the
    next test off its queue before running the current one (it must know the next item), so
    that next test cannot be stolen by an idle worker: two slow tests in a row would run one
    after the other on one worker (chapter 03's walkthrough and its 50 s lesson test did)."""
    slow = [item for item in items if slowness(item) < len(SLOW_FIRST)]
    quick = [item for item in items if slowness(item) == len(SLOW_FIRST)]
    ordered = []
    for item in slow:
        ordered.append(item)
        if quick:
            ordered.append(quick.pop(0))
    return ordered + quick


def pytest_collection_modifyitems(config, items):
    items.sort(key=slowness)  # stable: otherwise in the order collected
    wanted = os.environ.get("CH", "").strip()
    if not wanted:
        items[:] = one_quick_after_each_slow(items)
        return
    try:
        chapter = walkthrough.find(wanted)
    except KeyError as exc:
        raise pytest.UsageError(f"CH={wanted}: {exc.args[0]}") from None
    names = [ch.name for ch in walkthrough.chapters()]
    keep, drop = [], []
    for item in items:
        module = item.path.name
        if re.match(r"test_\d\d_", module):  # test_01_quickstart.py, test_01_quickstart_tour.py,
            ok = module.startswith(f"test_{chapter.number}_")  # test_08_deployment.py
        elif module in NOT_A_CHAPTER:
            ok = False
        else:  # structural checks: those about this chapter, and those about none in particular
            about = item.callspec.id if hasattr(item, "callspec") else ""
            ok = chapter.name in about or not any(name in about for name in names)
        (keep if ok else drop).append(item)
    config.hook.pytest_deselected(items=drop)
    items[:] = one_quick_after_each_slow(keep)


# --- the suite leaves the chapter folders exactly as they were ------------------------------
def chapter_snapshot() -> dict[str, str]:
    """{path: content hash} of every file in the chapter folders, git-ignored ones (a
    learner's .last_task_id, db.sqlite3 ...) and __pycache__ included."""
    return {str(path.relative_to(ROOT)): hashlib.sha1(path.read_bytes()).hexdigest()
            for chapter in walkthrough.chapters() for path in sorted(chapter.path.rglob("*"))
            if path.is_file()}


def snapshot_difference(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return ([f"added {p}" for p in sorted(after.keys() - before.keys())]
            + [f"deleted {p}" for p in sorted(before.keys() - after.keys())]
            + [f"changed {p}" for p in sorted(before.keys() & after.keys()) if before[p] != after[p]])


def pytest_sessionstart(session):
    if not hasattr(session.config, "workerinput"):  # the main pytest process only
        session.config._chapter_snapshot = chapter_snapshot()
        session.config._ran = set()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """pytest-xdist: a worker process hands over the commands its tests ran."""
    node.config._ran.update(node.workeroutput.get("ran", []))


def whole_suite(session) -> bool:
    option = session.config.option
    return (not os.environ.get("CH") and not option.keyword and not option.markexpr
            and [str(a) for a in session.config.args] == ["tests"])


def never_run() -> list[str]:
    """Chapter commands no test ran (a README command nobody checks)."""
    missing = []
    for chapter in walkthrough.chapters():
        commands = ([s.run for s in chapter.steps] + list(chapter.processes.values())
                    + list(chapter.commands.values()))
        missing += [f"{chapter.name}: {c}" for c in dict.fromkeys(commands)
                    if f"{chapter.name}: {c}" not in RAN]
    return missing


def pytest_sessionfinish(session, exitstatus):
    if hasattr(session.config, "workeroutput"):  # a pytest-xdist worker: report, check nothing
        session.config.workeroutput["ran"] = sorted(RAN)
        return
    RAN.update(session.config._ran)
    changes = snapshot_difference(session.config._chapter_snapshot, chapter_snapshot())
    if changes:
        print(f"\n[tests] the run changed the chapter folders: {', '.join(changes)}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if whole_suite(session) and (missing := never_run()):
        print(f"\n[tests] no test ran these chapter commands: {'; '.join(missing)}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if left := left_behind():
        print(f"\n[tests] the run left these behind: {'; '.join(left)}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# Chapter 09's hosts are network namespaces named cbri<pid>-<host>, and everything its scripts
# start carries "cbri" in its command line (node names, temporary folders cbri-...). After the
# suite, none may be left. (A learner's own servers, without that mark, are not looked at.)


def left_behind() -> list[str]:
    import shutil
    import subprocess

    found = []
    if shutil.which("ip"):
        listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        for name in (line.split()[0] for line in listed.splitlines() if line.startswith("cbri")):
            owner = re.match(r"cbri(\d+)", name)  # cbri<pid of the run>-<host>
            if not owner or not psutil.pid_exists(int(owner[1])):
                found.append(f"namespace {name}")
    for proc in psutil.process_iter(["name", "cmdline"]):
        try:
            line = " ".join(proc.info["cmdline"] or [])
            if "cbri" in line and proc.ppid() == 1:  # its run ended without it
                found.append(f"process {proc.pid} {line[:80]}")
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return found
