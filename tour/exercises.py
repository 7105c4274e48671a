"""Exercises that check themselves (`make check`, `make check CH=NN`), in the spirit of rustlings.

Each chapter has `exercises/exN_<what>.py`: a file with a docstring stating the goal and a
`TODO` where the learner writes code. Its check (tour/checks/chNN.py, one function per
exercise) runs the learner's file for real: a private Redis on a free port (never the
learner's), a worker started on the learner's code (the chapter's Procfile worker with
`-I exercises.exN_...`), in a scratch copy of the chapter (tour/runner.py), so nothing is
added to the chapter folder. It prints one line per exercise:

    ✓ ex1_register   multiply(6, 7) ran on the worker: 42
    ✗ ex2_timeout    result_or_none(id, 0.5) had not returned after 3 s: ...

A check says what it observed ("your task ran 1 time; it should have been retried 3 times").
Reference solutions are in `exercises/solutions/` (same file names); copying one over the
exercise turns its line into ✓. tests/test_exercises.py proves every exercise both ways.

    python -m tour.exercises          every chapter, then a progress table
    python -m tour.exercises 02       one chapter
"""

from __future__ import annotations

import importlib
import json
import re
import shutil
import sys
import tempfile
import textwrap
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import procs, walkthrough
from .redis_server import RedisServer, RedisUnavailable
from .runner import ChapterRun

EXERCISE = re.compile(r"^ex(\d+)_[a-z0-9_]+\.py$")
RUN_DIR = walkthrough.ROOT / ".run"


class NotYet(Exception):
    """The learner's code does not do what the exercise asks yet; the message is the hint."""


class CheckBroken(Exception):
    """The check could not run (Redis or a worker would not start): not the learner's fault."""


@dataclass
class Outcome:
    name: str
    ok: bool
    line: str                 # what was observed (✓) or the hint (✗)
    hint: bool = True         # ✗ from NotYet (False: the check itself crashed or timed out)
    seconds: float = 0.0


def exercise_files(chapter: walkthrough.Chapter) -> list[Path]:
    """The chapter's exercises, in number order (solutions/ excluded)."""
    folder = chapter.path / "exercises"
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if EXERCISE.match(p.name)]
    return sorted(found, key=lambda p: int(EXERCISE.match(p.name)[1]))


def solution_of(path: Path) -> Path:
    return path.parent / "solutions" / path.name


def checks_of(chapter: walkthrough.Chapter) -> dict[str, Callable[["Ctx"], str]]:
    """{exercise name: check function} from tour/checks/chNN.py (empty when there is none)."""
    try:
        module = importlib.import_module(f"tour.checks.ch{chapter.number}")
    except ModuleNotFoundError as error:
        if error.name == f"tour.checks.ch{chapter.number}":
            return {}
        raise
    return dict(module.CHECKS)


def first_line(text: str) -> str:
    """The goal of an exercise: the first line of its docstring."""
    return text.strip().splitlines()[0] if text.strip() else ""


class Ctx:
    """What a check gets: the chapter run (a scratch copy holding the learner's files), its
    private Redis, workers on the learner's code, and a way to run the learner's functions."""

    def __init__(self, run: ChapterRun, importable: list[str]):
        self.run = run
        self.redis_url = run.redis_url
        self.importable = importable  # exercise modules that import cleanly
        self._workers: dict[tuple[str, ...], procs.Proc] = {}
        self._others: dict[tuple, procs.Proc] = {}
        self._client = None

    # --- Redis ------------------------------------------------------------------------------
    def redis(self, role: str = "backend"):
        import redis as redis_py
        return redis_py.Redis.from_url(self.run.chapter.url(self.redis_url, role),
                                       decode_responses=True, socket_timeout=5)

    # --- workers ----------------------------------------------------------------------------
    def worker(self, *extra: str, command: str | None = None) -> procs.Proc:
        """The chapter's worker (its Procfile line) with every importable exercise module
        included (-I), plus extra arguments; one per distinct command and arguments, started
        on first use and stopped when the chapter's checks end. A chapter whose Procfile has
        no `worker` line (08's are named sms and reports; 09 has no Procfile) gets the worker
        command from its check, written as a learner types it: command="celery -A ... worker
        -l info ..." (-I and -n are appended to it the same way)."""
        base = command or self.run.chapter.processes.get("worker")
        if base is None:
            raise CheckBroken(f"{self.run.chapter.name} has no Procfile `worker` line: its check "
                              "must give the worker's command (ctx.worker(command=...))")
        key = (base, *extra)
        if key not in self._workers:
            include = f" -I {','.join(self.importable)}" if self.importable else ""
            name = f" -n check{len(self._workers) + 1}@%h"
            command = base + include + name + "".join(f" {arg}" for arg in extra)
            proc = procs.Proc(f"worker{len(self._workers) + 1}", command, self.run.path, self.run.env())
            self.run.procs.append(proc)
            proc.start()
            try:
                self.run.wait_ready(proc, self.redis_url, timeout=40)
            except TimeoutError as error:
                raise CheckBroken(f"the worker did not start: {last_lines(proc.output())}") from error
            self._workers[key] = proc
        return self._workers[key]

    def process(self, key: str, *extra: str, app: str | None = None) -> procs.Proc:
        """Another Procfile process of the chapter (beat, say), with `-A` pointed at `app` when
        given (an exercise module that imports the chapter's app and adds to it, e.g. to its
        beat_schedule: `celery -A exercises.ex2_beat beat` finds the app in it) and extra
        arguments appended; one per distinct set of arguments, started on first use, ready as
        the runner judges it (steps.toml's [ready]), stopped when the chapter's checks end."""
        marker = (key, app, *extra)
        if marker not in self._others:
            command = self.run.chapter.processes[key]
            if app:
                command = re.sub(r"(-A|--app)[ =]\S+", lambda m: f"{m[1]} {app}", command, count=1)
            command += "".join(f" {arg}" for arg in extra)
            proc = procs.Proc(key, command, self.run.path, self.run.env())
            self.run.procs.append(proc)
            proc.start()
            try:
                self.run.wait_ready(proc, self.redis_url, timeout=40)
            except TimeoutError as error:
                raise CheckBroken(f"{key} did not start: {last_lines(proc.output())}") from error
            self._others[marker] = proc
        return self._others[marker]

    def client(self):
        """A Celery client of the checker's own on the chapter's broker and backend (it sends
        tasks by name and reads results; the learner's code runs in the worker)."""
        if self._client is None:
            from celery import Celery
            chapter = self.run.chapter
            self._client = Celery("check", broker=chapter.broker_url(self.redis_url),
                                  backend=chapter.url(self.redis_url, "backend"))
            self._client.conf.update(task_serializer="json", accept_content=["json"],
                                     result_serializer="json")
        return self._client

    # --- the learner's functions, run in a process of their own -----------------------------
    def python(self, code: str, timeout: float = 20.0, prelude: str = "") -> dict:
        """Run `code` with python in the chapter copy (it imports the learner's module there)
        and return the JSON object its last line prints (`done(...)`). The code may use
        `call(function, *args, limit=s)`: the learner's function run in a thread, given at most
        limit seconds -> {"value", "error", "hung", "seconds"}. A driver that does not finish
        within timeout is stopped: NotYet says so. prelude: code run first (Django's setup)."""
        script = DRIVER_PRELUDE + textwrap.dedent(prelude) + textwrap.dedent(code)
        result = procs.run_step(f"{shlex_quote(sys.executable)} -c {shlex_quote(script)}",
                                self.run.path, self.run.env(), timeout)
        if result.timed_out:
            raise NotYet(f"your code had not finished after {timeout:.0f} s (a wait without a timeout?)")
        lines = [line for line in result.output.splitlines() if line.strip()]
        if result.returncode != 0 or not lines:
            if re.search(r'File "<string>", line \d+\n(.*\n){0,3}(Syntax|Indentation)Error', result.output):
                # the driver (the check's own code) does not compile: not the learner's mistake
                raise CheckBroken(f"the check's driver failed: {last_error(result.output)}")
            raise NotYet(f"your code failed: {last_error(result.output)}")
        try:
            return json.loads(lines[-1])
        except json.JSONDecodeError:
            raise CheckBroken(f"the check's driver printed no result: {lines[-1][:120]}")

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def shlex_quote(text: str) -> str:
    import shlex
    return shlex.quote(text)


def last_lines(text: str, count: int = 2) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " | ".join(lines[-count:])[:300] or "(no output)"


def last_error(output: str) -> str:
    """The exception line of a traceback (with the learner's file and line), else the last line."""
    lines = [line for line in output.splitlines() if line.strip()]
    where = ""
    for line in lines:
        found = re.search(r'File "[^"]*?(exercises/[^"]+)", line (\d+)', line)
        if found:
            where = f" ({found[1]}, line {found[2]})"
    errors = [line.strip() for line in lines if re.match(r"^\w+(\.\w+)*(Error|Exception|Exit)\b", line.strip())]
    return (errors[-1] if errors else (lines[-1].strip() if lines else "no output"))[:200] + where


DRIVER_PRELUDE = """
import json, os, sys, threading, time

def call(function, *args, limit=10.0):
    box = {"value": None, "error": None, "hung": False}
    def target():
        try:
            box["value"] = function(*args)
        except BaseException as error:
            box["error"] = type(error).__name__ + ": " + str(error)[:120]
    started = time.monotonic()
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(limit)
    box["hung"] = thread.is_alive()
    box["seconds"] = round(time.monotonic() - started, 2)
    return box

def done(**found):
    print(json.dumps(found, default=repr), flush=True)
    os._exit(0)  # a learner's call still hanging in a thread must not keep us here

"""

IMPORT_PROBE = """
import importlib, json, os, traceback
found = {}
importlib.import_module(%r)  # the chapter's app first, as the worker loads it (-A)
if "DJANGO_SETTINGS_MODULE" in os.environ:  # and Django set up, as Celery's Django fixup does
    import django
    django.setup()
for name in %r:
    try:
        importlib.import_module(name)
        found[name] = None
    except BaseException as error:
        tb = traceback.extract_tb(error.__traceback__)
        line = next((f" ({f.filename.split('/exercises/')[-1]}, line {f.lineno})" for f in reversed(tb)
                     if "/exercises/" in f.filename), "")
        text = str(error)
        if isinstance(error, SyntaxError):  # its text already names the file and the line
            text, line = error.msg, f" (line {error.lineno})"
        found[name] = f"{type(error).__name__}: {text}"[:160] + line
print(json.dumps(found))
"""


def check_chapter(chapter: walkthrough.Chapter, redis_url: str, *, solutions: bool = False,
                  say: Callable[[str], None] = lambda line: None) -> list[Outcome]:
    """Run every exercise check of the chapter against redis_url: on the learner's files, or
    with the reference solutions copied over them (solutions=True, what the tests prove)."""
    files, checks = exercise_files(chapter), checks_of(chapter)
    outcomes: list[Outcome] = []
    with ChapterRun(chapter, redis_url) as run:
        if (run.path / "manage.py").exists():  # a Django chapter: an SQLite file of the copy's
            run.extra_env["DJANGO_DB_PATH"] = str(run.path / "db.sqlite3")  # own, never the learner's
        folder = run.path / "exercises"
        if solutions:
            for path in files:
                shutil.copyfile(solution_of(path), folder / path.name)
        modules = [f"exercises.{path.stem}" for path in files]
        probe = procs.run_step(f"{shlex_quote(sys.executable)} -c {shlex_quote(IMPORT_PROBE % (chapter.app.split(':')[0], modules))}",
                               run.path, run.env(), 30)
        try:
            errors = json.loads(probe.output.splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            errors = {name: last_error(probe.output) for name in modules}
        ctx = Ctx(run, [name for name in modules if errors.get(name) is None])
        try:
            for path in files:
                name, started = path.stem, time.monotonic()
                check = checks.get(name)
                if check is None:
                    outcome = Outcome(name, False, "no check is written for this exercise", hint=False)
                elif errors.get(f"exercises.{name}"):
                    outcome = Outcome(name, False, f"exercises/{name}.py does not import: "
                                                   f"{errors[f'exercises.{name}']}")
                else:
                    try:
                        outcome = Outcome(name, True, check(ctx))
                    except NotYet as hint:
                        outcome = Outcome(name, False, str(hint))
                    except CheckBroken as broken:
                        outcome = Outcome(name, False, f"the check could not run: {broken}", hint=False)
                    except Exception as error:  # a bug in the check, not in the learner's code
                        where = traceback.extract_tb(error.__traceback__)[-1]
                        outcome = Outcome(name, False, f"the check itself failed: {type(error).__name__}: "
                                                       f"{error} ({Path(where.filename).name}:{where.lineno})",
                                          hint=False)
                outcome.seconds = time.monotonic() - started
                outcomes.append(outcome)
                say(format_outcome(outcome))
        finally:
            ctx.close()
    return outcomes


def format_outcome(outcome: Outcome, width: int = 22) -> str:
    mark = "✓" if outcome.ok else "✗"
    return f"  {mark} {outcome.name:<{width}} {outcome.line}"


def private_redis() -> RedisServer:
    RUN_DIR.mkdir(exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="checks-", dir=RUN_DIR))
    try:
        server = RedisServer.start(folder, appendonly=False)
    except RedisUnavailable:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    server.folder = folder  # removed by stop_private()
    return server


def stop_private(server: RedisServer) -> None:
    server.stop()
    shutil.rmtree(server.folder, ignore_errors=True)


def with_exercises() -> list[walkthrough.Chapter]:
    return [chapter for chapter in walkthrough.chapters() if exercise_files(chapter)]


def main(argv: list[str]) -> int:
    wanted = argv[0] if argv and argv[0].strip() else None
    try:
        chapters = [walkthrough.find(wanted)] if wanted else with_exercises()
    except KeyError as error:
        print(f"[!] {error.args[0]}")
        return 2
    if wanted and not exercise_files(chapters[0]):
        print(f"[!] {chapters[0].name} has no exercises/ folder yet")
        return 2
    try:
        server = private_redis()
    except RedisUnavailable as error:
        print(f"[!] could not start a private Redis for the checks: {error}")
        return 1
    started = time.monotonic()
    table: list[tuple[walkthrough.Chapter, list[Outcome]]] = []
    try:
        print(f"[1] a private Redis for the checks on {server.url} (yours is not touched)")
        for number, chapter in enumerate(chapters, start=2):
            print(f"[{number}] {chapter.name}: your files in {chapter.name}/exercises/")
            outcomes = check_chapter(chapter, server.url, say=print)
            table.append((chapter, outcomes))
    except KeyboardInterrupt:
        print("[!] interrupted: the workers and the Redis the checks started are stopped")
        return 130
    finally:
        stop_private(server)
    done = sum(o.ok for _, outcomes in table for o in outcomes)
    total = sum(len(outcomes) for _, outcomes in table)
    if len(table) > 1:
        print()
        print(f"{'chapter':<24} {'done':>5}  next")
        for chapter, outcomes in table:
            todo = next((o for o in outcomes if not o.ok), None)
            nxt = f"{todo.name}: {todo.line}" if todo else "all done"
            nxt = nxt if len(nxt) <= 80 else nxt[:79] + "…"  # the whole hint is above
            print(f"{chapter.name:<24} {sum(o.ok for o in outcomes)}/{len(outcomes):<3}  {nxt}")
    print(f"{done} of {total} exercises done in {time.monotonic() - started:.1f} s. "
          + ("Well done." if done == total else
             "Edit a file with a ✗, run the check again; a solution is in exercises/solutions/."))
    broken = [o for _, outcomes in table for o in outcomes if not o.ok and not o.hint]
    return 1 if broken else 0


if __name__ == "__main__":  # the checks import tour.exercises: use that module, not __main__
    from tour.exercises import main as entry
    raise SystemExit(entry(sys.argv[1:]))
