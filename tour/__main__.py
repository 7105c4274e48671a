"""The guided tour: `make tour` (every chapter) or `make tour CH=03` (one).

For each chapter it makes a scratch copy of the folder (tour/runner.py: the learner's own
folder stays exactly as it was), starts the Procfile processes there (as a learner would in
extra terminals), waits until each is ready, runs each step printing the command and its
output, shows the worker log lines that matter, and stops everything it started, also on
Ctrl-C. It pauses for Enter between steps at a terminal; AUTO=1 (or no terminal) runs
straight through. It ends with a summary table, after Ctrl-C too.
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

from . import exercises, procs, redis_server, runner, walkthrough

# Long lines stay whole; in a pipe or a CI log, 120 columns instead of rich's 80.
console = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 120)
WORKER_LINES = re.compile(
    r"Task \S+ (received|succeeded|failed|retry|raised)|unregistered|Scheduler: Sending|"
    r"Discarding revoked|expired|ERROR|CRITICAL")
LOG_PREFIX = re.compile(r"^\[\d{4}-\d\d-\d\d (\d\d:\d\d:\d\d),\d+: ")  # a log line's date and ms
ZONE = time.strftime("%Z")  # log lines carry local time: say which
TASK_ID = re.compile(r"\[([0-9a-f]{8})-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\]")

@dataclass
class Outcome:
    chapter: str
    passed: int
    total: int
    seconds: float
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.passed == self.total and not self.problem


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


def fit(line: str, indent: int = 4) -> str:
    """One screen line: long lines (a task's return value, say) are cut with an ellipsis."""
    width = max(60, (console.width or 120) - indent)
    return line if len(line) <= width else line[:width - 2] + " …"


def echo(line: str) -> None:
    """A line the step printed: shown whole (it is the lesson), blank lines as blank."""
    say(f"    {line}" if line.strip() else "")


def log_line(line: str) -> str:
    """A process's log line, short: time of day with this machine's zone (the clock Celery's
    log lines use), task ids cut to 8 characters, run times to 2 decimals."""
    line = TASK_ID.sub(r"[\1…]", LOG_PREFIX.sub(rf"[\1 {ZONE} ", line))
    return fit(re.sub(r"\b(\d+\.\d\d)\d+s\b", r"\1s", line))


def start_processes(run: runner.ChapterRun) -> None:
    wanted = [name for name in run.chapter.processes if name != "flower" or flower_wanted()]
    for terminal, name in enumerate(wanted, start=2):
        command = run.command_line(name)
        say(f"[terminal {terminal}] {run.chapter.name}$ {command}", "bold cyan")
        if command != run.chapter.processes[name]:  # a Django site, on a port of its own
            say(f"  (a free port, not 8000, where a server of yours may run; the other "
                f"commands find it with SITE_URL={run.site_url})", "dim")
        proc = run.start(name, ready=False)
        seconds = run.wait_ready(proc, run.redis_url)
        if runner.is_worker(proc.command):
            say(f"  {name} is ready: it answered a ping {seconds:.1f} s after starting", "dim")
        else:
            say(f"  {name} is up ({seconds:.1f} s)", "dim")
        if name == "flower":
            url = proc.wait_for(r"Visit me at (\S+)", 5).group(1)
            say(f"  open {url} to watch tasks arrive, run, retry and fail", "bold")


def run_chapter(run: runner.ChapterRun, outcome: Outcome) -> None:
    """Run one chapter, keeping outcome up to date (it is reported even after Ctrl-C)."""
    chapter, started = run.chapter, time.monotonic()
    console.rule(f"[bold]{chapter.name}[/bold]: {escape(chapter.title)}")
    say(f"Read along in {chapter.name}/README.md. The commands run in a scratch copy of the "
        "folder:", "dim")
    say("yours stays exactly as you left it.", "dim")
    try:
        start_processes(run)
    except TimeoutError as exc:
        say(f"  could not start the chapter's processes: {exc}", "red")
        outcome.problem = "start failed"
        return
    for number, step in enumerate(chapter.steps, start=1):
        console.print()
        pause(f"run step {number}")
        if step.say:
            say(f"({number}/{len(chapter.steps)}) {step.say}", "bold")
        say(f"[terminal 1] {chapter.name}$ {step.run}", "bold green")
        marks = {proc.name: proc.mark() for proc in run.procs}
        result, problems = run.run_step(step, echo=echo)
        time.sleep(0.2)  # let the last log lines of the worker arrive
        show_process_lines(run.procs, marks, step)
        if problems:
            say(f"  ✗ step {number} failed: {'; '.join(problems)}", "bold red")
            for proc in run.procs:  # the whole story, not only the lines the tour usually picks
                state = "running" if proc.running() else f"exited with {proc.popen.returncode}"
                say(f"  last lines of the {proc.name} ({state}):", "yellow")
                for line in proc.output().splitlines()[-15:]:
                    say(f"    {log_line(line)}", "yellow")
        else:
            outcome.passed += 1
            exit_note = f", exit code {result.returncode} as expected" if step.exit else ""
            say(f"  ✓ step {number} ok ({result.seconds:.1f} s{exit_note})", "green")
        outcome.seconds = time.monotonic() - started
    count = len(exercises.exercise_files(run.original))
    if count:
        console.print()
        say(f"Your turn: {count} exercises in {chapter.name}/exercises/; "
            f"`make check CH={chapter.number}` checks them.", "bold")


def show_process_lines(running: list[procs.Proc], marks: dict[str, int], step: walkthrough.Step) -> None:
    extra = re.compile("|".join(step.worker_log)) if step.worker_log else None
    for proc in running:
        lines = [line for line in proc.output(marks[proc.name]).splitlines()
                 if WORKER_LINES.search(line) or (extra and extra.search(line))]
        if lines:
            say(f"  what the {proc.name} logged meanwhile:", "dim")
            for line in lines[:12]:
                say(f"    {log_line(line)}", "dim cyan")
            if len(lines) > 12:
                say(f"    ... {len(lines) - 12} more lines", "dim cyan")


def close(run: runner.ChapterRun) -> None:
    """Stop the chapter's processes and remove its scratch copy."""
    for name, code in run.close():
        note = procs.exit_note(code)
        say(f"  stopped {name}{f' ({note})' if note else ''}", "dim" if not note else "yellow")


def summary(outcomes: list[Outcome], interrupted: bool) -> None:
    table = Table(title="Tour summary" + (" (interrupted)" if interrupted else ""))
    table.add_column("chapter")
    table.add_column("steps passed", justify="right")
    table.add_column("time", justify="right")
    for o in outcomes:
        mark = "[green]✓[/green]" if o.ok else "[red]✗[/red]"
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
    # Ctrl-C stops the tour even when whatever started it ignores SIGINT (nohup, some CI
    # runners and test harnesses): Python keeps an ignored SIGINT ignored otherwise.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        found = redis_server.find_or_start(log=lambda msg: say(msg, "dim"))
    except redis_server.RedisUnavailable as exc:
        say(f"[tour] Redis: {exc}", "red")
        return 1
    say(f"[redis] using {found.how}", "bold")
    say("Terminal 1 is where you would type the steps; terminals 2, 3, ... run the chapter's", "dim")
    say("processes (its Procfile, in order), as its README numbers them. Redis needs none.", "dim")
    if interactive():
        say("Pausing before each step; run with AUTO=1 to go straight through.", "dim")

    outcomes: list[Outcome] = []
    current: runner.ChapterRun | None = None
    interrupted = False
    try:
        for chapter in chapters:
            outcomes.append(Outcome(chapter.name, 0, len(chapter.steps), 0.0))
            current = runner.ChapterRun(chapter, found.url)
            run_chapter(current, outcomes[-1])
            close(current)
            current = None
    except KeyboardInterrupt:
        interrupted = True
        say("\n[tour] interrupted: stopping everything the tour started", "yellow")
        if outcomes and not outcomes[-1].problem:
            outcomes[-1].problem = "interrupted"
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C must not cut this short
            signal.signal(sig, signal.SIG_IGN)
        if current is not None:
            close(current)
        if found.started:
            found.stop()
            say("[redis] stopped the Redis this tour started", "dim")
        procs.kill_children()  # a step Ctrl-C caught between its start and its first line
    summary(outcomes, interrupted)
    if interrupted:
        return 130
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
