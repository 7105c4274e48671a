"""Start, watch and stop the processes a chapter needs (worker, beat, web) and run its steps.

Shared by the tour and the tests, so both run a chapter exactly the same way: each command
is the learner's own command line, run in the chapter folder, with REDIS_URL set.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import psutil

VENV_BIN = str(Path(sys.executable).parent)


def chapter_env(redis_url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a learner's terminal would have after activating .venv."""
    env = dict(os.environ)
    env["REDIS_URL"] = redis_url
    env["PATH"] = VENV_BIN + os.pathsep + env.get("PATH", "")
    env["VIRTUAL_ENV"] = str(Path(VENV_BIN).parent)
    env["PYTHONUNBUFFERED"] = "1"  # lines show up as they are printed, not at exit
    env.pop("PYTHONPATH", None)
    env.update(extra or {})
    return env


def split(command: str) -> list[str]:
    return shlex.split(command)


class Proc:
    """A long-running process (celery worker, beat, a web server) whose output we keep."""

    def __init__(self, name: str, command: str, cwd: Path, env: dict[str, str],
                 on_line: Callable[[str, str], None] | None = None):
        self.name, self.command, self.cwd, self.env = name, command, Path(cwd), env
        self.lines: list[str] = []
        self.on_line = on_line
        self._changed = threading.Condition()
        self.popen: subprocess.Popen | None = None
        self._reader: threading.Thread | None = None

    def start(self) -> "Proc":
        self.popen = subprocess.Popen(
            split(self.command), cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
            start_new_session=True,  # its own process group: Ctrl-C reaches us, we stop it
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def _read(self) -> None:
        assert self.popen and self.popen.stdout
        for line in self.popen.stdout:
            line = line.rstrip("\n")
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
            if self.on_line:
                self.on_line(self.name, line)
        with self._changed:
            self._changed.notify_all()

    @property
    def pid(self) -> int:
        assert self.popen
        return self.popen.pid

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def output(self, since: int = 0) -> str:
        with self._changed:
            return "\n".join(self.lines[since:])

    def mark(self) -> int:
        """Position in the output, to look only at what comes after it."""
        with self._changed:
            return len(self.lines)

    def wait_for(self, pattern: str, timeout: float, since: int = 0) -> re.Match:
        """Wait until a line matching pattern appears; raise TimeoutError with the tail."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.lines[since:]:
                    if m := regex.search(line):
                        return m
                left = deadline - time.monotonic()
                if left <= 0 or (not self.running() and not self._reader_alive()):
                    tail = "\n".join(self.lines[-25:])
                    state = "is still running" if self.running() else "has exited"
                    raise TimeoutError(f"{self.name}: no line matching {pattern!r} after "
                                       f"{timeout:.0f} s; the process {state}. Last lines:\n{tail}")
                self._changed.wait(min(left, 0.2))

    def count(self, pattern: str, since: int = 0) -> int:
        regex = re.compile(pattern)
        with self._changed:
            return sum(1 for line in self.lines[since:] if regex.search(line))

    def _reader_alive(self) -> bool:
        return self._reader is not None and self._reader.is_alive()

    def stop(self, timeout: float = 15.0) -> int | None:
        """Warm shutdown (SIGTERM), then SIGKILL for anything left of the process tree."""
        if self.popen is None:
            return None
        try:
            family = [psutil.Process(self.pid), *psutil.Process(self.pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            family = []
        if self.running():
            try:
                os.killpg(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        _, alive = psutil.wait_procs(family, timeout=1)
        for proc in alive:
            try:
                proc.kill()
            except psutil.NoSuchProcess:
                pass
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.popen.poll() is None:
            self.popen.wait(5)
        if self._reader:
            self._reader.join(5)
        return self.popen.returncode


@dataclass
class StepResult:
    returncode: int
    output: str
    seconds: float
    timed_out: bool = False


def run_step(command: str, cwd: Path, env: dict[str, str], timeout: float = 60.0,
             echo: Callable[[str], None] | None = None) -> StepResult:
    """Run one learner command to completion (never longer than timeout), keeping its output."""
    started = time.monotonic()
    popen = subprocess.Popen(split(command), cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             bufsize=1, start_new_session=True)
    timed_out = threading.Event()

    def kill() -> None:
        try:
            os.killpg(popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def on_timeout() -> None:
        timed_out.set()
        kill()

    timer = threading.Timer(timeout, on_timeout)
    lines = []
    try:
        timer.start()
        assert popen.stdout
        for line in popen.stdout:
            lines.append(line.rstrip("\n"))
            if echo:
                echo(lines[-1])
        popen.wait()
    except BaseException:  # Ctrl-C while a step runs: take the step down with us
        kill()
        popen.wait()
        raise
    finally:
        timer.cancel()
    return StepResult(popen.returncode, "\n".join(lines),
                      time.monotonic() - started, timed_out.is_set())


def kill_children() -> int:
    """SIGKILL whatever this process started that is still alive (the last resort of a
    Ctrl-C); returns how many there were."""
    left = psutil.Process().children(recursive=True)
    for proc in left:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(left, timeout=5)
    return len(left)


def exit_note(code: int | None) -> str:
    """How a stopped process ended, for a learner: "" for a normal stop (exit 0, or ended by
    the SIGTERM we sent, as Django's runserver is), else what went wrong."""
    if code in (None, 0, -signal.SIGTERM, 128 + signal.SIGTERM):
        return ""
    if code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"


def worker_answers_ping(broker_url: str, timeout: float = 30.0) -> float:
    """Wait until a worker on broker_url answers a control ping; return the seconds it took."""
    from celery import Celery

    started = time.monotonic()
    probe = Celery("tour-probe", broker=broker_url)
    probe.conf.broker_connection_retry_on_startup = True
    try:
        while time.monotonic() - started < timeout:
            if probe.control.ping(timeout=0.3):
                return time.monotonic() - started
        raise TimeoutError(f"no worker answered a ping on the broker within {timeout:.0f} s")
    finally:
        probe.close()
