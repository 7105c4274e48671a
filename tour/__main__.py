"""The guided tour: `make tour` (every chapter) or `make tour CH=03` (one).

For each chapter it starts the Procfile processes (as a learner would in extra terminals),
waits until the worker answers a ping, runs each step printing the command and its output,
shows the worker log lines that matter, and stops everything it started. It pauses for
Enter between steps at a terminal; AUTO=1 (or no terminal) runs straight through.
"""

from __future__ import annotations

import os
import re
import signal
import sys
import time
from dataclasses import dataclass

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import procs, redis_server, walkthrough

# Long lines stay whole; in a pipe or a CI log, 120 columns instead of rich's 80.
console = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 120)
WORKER_LINES = re.compile(
    r"Task \S+ (received|succeeded|failed|retry|raised)|unregistered|Scheduler: Sending|"
    r"Discarding revoked|expired|ERROR|CRITICAL")
LOG_PREFIX = re.compile(r"^\[\d{4}-\d\d-\d\d (\d\d:\d\d:\d\d),\d+: ")  # a log line's date and ms

@dataclass
class Outcome:
    chapter: str
    passed: int
    total: int
    seconds: float
    problem: str = ""


def flower_wanted() -> bool:
    """FLOWER=1 starts each chapter's Flower dashboard too (a Procfile line `flower:`)."""
    return os.environ.get("FLOWER", "") not in ("", "0")


def interactive() -> bool:
    return sys.stdin.isatty() and os.environ.get("AUTO", "") in ("", "0")


def pause(what: str) -> None:
    if interactive():
        console.input(f"[dim]  press Enter to {what} (Ctrl-C stops the tour) [/dim]")


def say(text: str, style: str = "") -> None:
    console.print(escape(text), style=style or None)


def start_processes(chapter: walkthrough.Chapter, redis_url: str, running: list[procs.Proc]) -> None:
    env = procs.chapter_env(redis_url)
    wanted = {name: command for name, command in chapter.processes.items()
              if name != "flower" or flower_wanted()}
    for terminal, (name, command) in enumerate(wanted.items(), start=2):
        say(f"[terminal {terminal}] {chapter.name}$ {command}", "bold cyan")
        proc = procs.Proc(name, command, chapter.path, env)
        running.append(proc)  # registered first: a Ctrl-C at any moment still stops it
        proc.start()
        started = time.monotonic()
        if name in chapter.ready:
            proc.wait_for(chapter.ready[name], timeout=60)
            say(f"  {name} is up ({time.monotonic() - started:.1f} s)", "dim")
            if name == "flower":
                url = proc.wait_for(r"Visit me at (\S+)", 5).group(1)
                say(f"  open {url} to watch tasks arrive, run, retry and fail", "bold")
        elif name.startswith("worker"):
            proc.wait_for(r"ready\.", timeout=60)
            procs.worker_answers_ping(chapter.broker_url(redis_url), timeout=30)
            say(f"  {name} is ready: it answered a ping {time.monotonic() - started:.1f} s "
                "after starting", "dim")


def run_chapter(chapter: walkthrough.Chapter, redis_url: str, running: list[procs.Proc]) -> Outcome:
    started = time.monotonic()
    console.rule(f"[bold]{chapter.name}[/bold]: {escape(chapter.title)}")
    say(f"Read along in {chapter.name}/README.md. Commands run in the folder {chapter.name}/.", "dim")
    try:
        start_processes(chapter, redis_url, running)
    except TimeoutError as exc:
        say(f"  could not start the chapter's processes: {exc}", "red")
        return Outcome(chapter.name, 0, len(chapter.steps), time.monotonic() - started, "start failed")

    env = procs.chapter_env(redis_url)
    passed = 0
    for number, step in enumerate(chapter.steps, start=1):
        console.print()
        pause(f"run step {number}")
        if step.say:
            say(f"({number}/{len(chapter.steps)}) {step.say}", "bold")
        say(f"[terminal 1] {chapter.name}$ {step.run}", "bold green")
        marks = {proc.name: proc.mark() for proc in running}
        result = procs.run_step(step.run, chapter.path, env, timeout=step.timeout,
                                echo=lambda line: say(f"    {line}"))
        problems = []
        if result.timed_out:
            problems.append(f"stopped after {step.timeout:.0f} s")
        elif result.returncode != step.exit:
            problems.append(f"exit code {result.returncode}, expected {step.exit}")
        problems += [f"no line matches {pattern!r}" for pattern in step.expect
                     if not re.search(pattern, result.output, re.MULTILINE)]
        time.sleep(0.2)  # let the last log lines of the worker arrive
        show_process_lines(running, marks, step)
        if problems:
            say(f"  ✗ step {number} failed: {'; '.join(problems)}", "bold red")
            for proc in running:  # the whole story, not only the lines the tour usually picks
                state = "running" if proc.running() else f"exited with {proc.popen.returncode}"
                say(f"  last lines of the {proc.name} ({state}):", "yellow")
                for line in proc.output().splitlines()[-15:]:
                    say(f"    {line[:200]}", "yellow")
        else:
            passed += 1
            exit_note = f", exit code {result.returncode} as expected" if step.exit else ""
            say(f"  ✓ step {number} ok ({result.seconds:.1f} s{exit_note})", "green")
    return Outcome(chapter.name, passed, len(chapter.steps), time.monotonic() - started)


def show_process_lines(running: list[procs.Proc], marks: dict[str, int], step: walkthrough.Step) -> None:
    extra = re.compile("|".join(step.worker_log)) if step.worker_log else None
    for proc in running:
        lines = [line for line in proc.output(marks[proc.name]).splitlines()
                 if WORKER_LINES.search(line) or (extra and extra.search(line))]
        if lines:
            say(f"  what the {proc.name} logged meanwhile:", "dim")
            for line in lines[:12]:
                line = LOG_PREFIX.sub(r"[\1 ", line)  # keep the time of day, drop date and ms
                say(f"    {line[:200]}{' ...' if len(line) > 200 else ''}", "dim cyan")
            if len(lines) > 12:
                say(f"    ... {len(lines) - 12} more lines", "dim cyan")


def stop_all(running: list[procs.Proc]) -> None:
    while running:
        proc = running.pop()
        code = proc.stop()
        say(f"  stopped {proc.name} (exit code {code})", "dim")


def summary(outcomes: list[Outcome]) -> None:
    table = Table(title="Tour summary")
    table.add_column("chapter")
    table.add_column("steps passed", justify="right")
    table.add_column("time", justify="right")
    for o in outcomes:
        ok = o.passed == o.total and not o.problem
        mark = "[green]✓[/green]" if ok else "[red]✗[/red]"
        note = f" ({o.problem})" if o.problem else ""
        table.add_row(f"{mark} {o.chapter}", f"{o.passed}/{o.total}{note}", f"{o.seconds:.1f} s")
    console.print(table)


def main(argv: list[str]) -> int:
    wanted = " ".join(argv).strip()
    try:
        chapters = [walkthrough.find(wanted)] if wanted else walkthrough.chapters()
    except KeyError as exc:
        say(f"[tour] {exc.args[0]}", "red")
        return 2

    def on_sigterm(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        found = redis_server.find_or_start(log=lambda msg: say(msg, "dim"))
    except redis_server.RedisUnavailable as exc:
        say(f"[tour] Redis: {exc}", "red")
        return 1
    say(f"[redis] using {found.how}", "bold")
    if interactive():
        say("Pausing before each step; run with AUTO=1 to go straight through.", "dim")

    outcomes: list[Outcome] = []
    running: list[procs.Proc] = []
    interrupted = False
    try:
        for chapter in chapters:
            outcomes.append(run_chapter(chapter, found.url, running))
            stop_all(running)
    except KeyboardInterrupt:
        interrupted = True
        say("\n[tour] interrupted: stopping everything the tour started", "yellow")
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C must not cut this short
            signal.signal(sig, signal.SIG_IGN)
        stop_all(running)
        if found.started:
            found.stop()
            say("[redis] stopped the Redis this tour started", "dim")
    summary(outcomes)
    if interrupted:
        return 130
    return 0 if all(o.passed == o.total and not o.problem for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
