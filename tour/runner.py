"""The one chapter runner: the tour, the tests (`Lab`) and bench all run chapters through it.

    with ChapterRun(chapter, redis_url) as run:
        run.start("worker")                      # a Procfile line or a [commands] entry
        result, problems = run.run_step(step)    # a walkthrough step, judged

- Scratch copy: a chapter runs in a copy of its folder under .run/scratch/ (the learner's
  run state such as .last_task_id, beat's schedule and SQLite files is left out of the copy),
  so a run never adds, changes or deletes a file in the chapter folder the learner works in.
- Ready: a process named in steps.toml's [ready] (beat and flower by default) is ready when
  that log line appears; a celery worker when it logs "ready." and answers a ping on the
  chapter's broker database. Every wait has a timeout.
- Judged: a step passes when it ends within its timeout, with its exit code, and its output
  matches every `expect` pattern.
- Stopped: warm shutdown first, then the whole process tree is killed (also on Ctrl-C).
- A Django site (a Procfile line `python manage.py runserver ...`, chapter 05): a learner's
  server listens where Django says, 127.0.0.1:8000. A run never uses that port, so it never
  meets the learner's own server: it appends a free `127.0.0.1:PORT` to the command and sets
  SITE_URL=http://127.0.0.1:PORT for every command and process of the run (the setting the
  chapter's commands and worker read to find the site; a learner sets it too when 8000 is
  busy, as the chapter's README says). The production server, gunicorn (chapter 05's
  [commands] entry, the same command as docker-compose.yml's `web` service), gets that port
  too: its `--bind 127.0.0.1:8000` becomes `--bind 127.0.0.1:PORT`, nothing else changes.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Callable

from . import procs, walkthrough
from .redis_server import free_port

SCRATCH = walkthrough.ROOT / ".run" / "scratch"
# What a run leaves in a chapter folder (all git-ignored): never copied, so a learner's
# leftovers (a stale beat schedule, say) cannot change what a run does.
RUN_STATE = ("__pycache__", "*.pyc", ".last_task_id", "celerybeat-schedule*", "*.sqlite3",
             "dump.rdb", "appendonly*.aof", "appendonlydir", "*.log", ".env",
             "*.pid", "*.sock")  # supervisord's and celery multi's (chapter 08's deploy/)
WORKER = re.compile(r"^celery\s.*\sworker(\s|$)")
RUNSERVER = re.compile(r"\bmanage\.py\s+runserver\b")
GUNICORN = re.compile(r"^gunicorn\s")
BIND = re.compile(r"(--bind[= ]|-b )(\S+)")


def is_worker(command: str) -> bool:
    """`celery -A app worker ...` (the one rule for "is this a worker")."""
    return bool(WORKER.search(command))


def is_long_running(chapter: walkthrough.Chapter, command: str) -> bool:
    """A process that runs until stopped: a Procfile line, a worker, beat or a web server."""
    return (command in chapter.processes.values() or is_worker(command)
            or bool(re.search(r"\sbeat(\s|$)|runserver", command)) or bool(GUNICORN.search(command)))


def listening_at(command: str, port: int) -> str:
    """Django's runserver command, listening on 127.0.0.1:port (its `addrport` argument);
    gunicorn's, with its one --bind address replaced by 127.0.0.1:port."""
    if GUNICORN.search(command):
        binds = BIND.findall(command)
        if len(binds) != 1:
            raise ValueError(f"`{command}`: expected one --bind address, found {len(binds)}")
        return BIND.sub(lambda m: f"{m[1]}127.0.0.1:{port}", command)
    return f"{command} 127.0.0.1:{port}"


def is_web_server(command: str) -> bool:
    """A Django site: runserver, or gunicorn serving the project's WSGI application."""
    return bool(RUNSERVER.search(command) or GUNICORN.search(command))


def scratch_copy(chapter: walkthrough.Chapter) -> walkthrough.Chapter:
    """The chapter, copied to .run/scratch/<unique>/repo/<chapter name>/ without run state
    (the same relative path as in the repository: coverage maps it back, pyproject.toml)."""
    SCRATCH.mkdir(parents=True, exist_ok=True)
    holder = Path(tempfile.mkdtemp(prefix=f"{chapter.number}-", dir=SCRATCH))
    copy = holder / "repo" / chapter.name
    shutil.copytree(chapter.path, copy, ignore=shutil.ignore_patterns(*RUN_STATE))
    return walkthrough.load(copy)


def remove_copy(chapter: walkthrough.Chapter) -> None:
    holder = chapter.path.parent.parent
    if holder.parent == SCRATCH:
        shutil.rmtree(holder, ignore_errors=True)


def check_step(step: walkthrough.Step, result: procs.StepResult) -> list[str]:
    """What is wrong with a step's result (empty: it passed)."""
    problems = []
    if result.timed_out:
        problems.append(f"stopped after {step.timeout:.0f} s")
    elif result.returncode != step.exit:
        problems.append(f"exit code {result.returncode}, expected {step.exit}")
    problems += [f"no line matches {pattern!r}" for pattern in step.expect
                 if not re.search(pattern, result.output, re.MULTILINE)]
    return problems


class ChapterRun:
    """One chapter, run in a scratch copy the way a learner runs it, against redis_url."""

    def __init__(self, chapter: walkthrough.Chapter, redis_url: str, *,
                 env: dict[str, str] | None = None, copy: bool = True):
        self.original = chapter
        self.chapter = scratch_copy(chapter) if copy else chapter
        self.redis_url = redis_url
        self.extra_env = dict(env or {})
        self.procs: list[procs.Proc] = []
        # A Django site gets a free port of its own (see the module docstring).
        self.site_port = (free_port() if any(is_web_server(command) for command in
                                             [*self.chapter.processes.values(),
                                              *self.chapter.commands.values()]) else None)
        if self.site_port:
            self.extra_env.setdefault("SITE_URL", f"http://127.0.0.1:{self.site_port}")

    @property
    def site_url(self) -> str | None:
        """Where this run's Django site listens (None for a chapter without one)."""
        return self.extra_env.get("SITE_URL")

    @property
    def path(self) -> Path:
        return self.chapter.path

    def env(self, extra: dict[str, str] | None = None, redis_url: str | None = None) -> dict[str, str]:
        return procs.chapter_env(redis_url or self.redis_url, {**self.extra_env, **(extra or {})})

    def command_line(self, key: str) -> str:
        """What start(key) runs: the chapter's command, a Django site on the run's own port."""
        command = self.chapter.command(key)
        if self.site_port and is_web_server(command):
            return listening_at(command, self.site_port)
        return command

    def start(self, key: str, *, env: dict[str, str] | None = None, ready: bool = True,
              redis_url: str | None = None, timeout: float = 60) -> procs.Proc:
        """Start a Procfile process or a [commands] entry; wait until it is ready."""
        command = self.command_line(key)
        proc = procs.Proc(key, command, self.path, self.env(env, redis_url))
        self.procs.append(proc)  # registered first: a Ctrl-C at any moment still stops it
        proc.start()
        if ready:
            self.wait_ready(proc, redis_url or self.redis_url, timeout)
        return proc

    def wait_ready(self, proc: procs.Proc, redis_url: str, timeout: float = 60) -> float:
        """Seconds until proc was ready (see the module docstring); TimeoutError if never."""
        started = time.monotonic()
        if proc.name in self.chapter.ready:
            proc.wait_for(self.chapter.ready[proc.name], timeout=timeout)
        elif is_worker(proc.command):
            proc.wait_for(r"ready\.", timeout=timeout)
            procs.worker_answers_ping(self.chapter.broker_url(redis_url), timeout=30)
        return time.monotonic() - started

    def run(self, command: str, *, timeout: float = 60, env: dict[str, str] | None = None,
            redis_url: str | None = None, echo: Callable[[str], None] | None = None) -> procs.StepResult:
        """Run a command to completion in the copy (never longer than timeout)."""
        return procs.run_step(command, self.path, self.env(env, redis_url), timeout, echo)

    def run_step(self, step: walkthrough.Step, *, env: dict[str, str] | None = None,
                 echo: Callable[[str], None] | None = None) -> tuple[procs.StepResult, list[str]]:
        result = procs.run_step(step.run, self.path, self.env(env), step.timeout, echo)
        return result, check_step(step, result)

    def stop_all(self) -> list[tuple[str, int | None]]:
        """Stop every process, the last started first; [(name, exit code)]."""
        stopped = []
        while self.procs:
            proc = self.procs.pop()
            stopped.append((proc.name, proc.stop()))
        return stopped

    def close(self) -> list[tuple[str, int | None]]:
        stopped = self.stop_all()
        if self.chapter is not self.original:
            remove_copy(self.chapter)
        return stopped

    def __enter__(self) -> "ChapterRun":
        return self

    def __exit__(self, *_exc) -> None:
        self.close()
