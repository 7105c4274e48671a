"""The root README's "When things go wrong" table, run row by row, in both languages.

Each row says what you run, what you see and what to do. For every row of README.md and of
README.zh-CN.md this module works out from the "you run" cell what to run, runs it for real
and checks the "you see" cell against the output:
- each code span of "you see" must match whole line(s) of the output exactly, except that
  `...` stands for a part left out (within a line); nothing else may differ;
- `(exit N)` / `（退出码 N）` is the exit code; `within N s` / `N 秒以内` the time it may take.

How the "you run" cell is read (the words in both languages):
- a code span `make tour ...` runs `python -m tour ...` from the repository root, which is
  what the Makefile does (`CH=x` becomes the argument x), with AUTO=1 and a timeout;
- a code span `python ...` runs that command in a scratch copy of the first chapter that has
  the script (`<wrong id>` becomes an id nobody sent);
- "any script" / "任意脚本": the first script of every chapter that talks to Redis;
- a code span `REDIS_URL=value` sets REDIS_URL to that value;
- "Redis stopped", "but down" / "Redis 没有运行", "连不上": REDIS_URL points at a port where
  nothing listens (redis://127.0.0.1:1), and the README's default address
  redis://127.0.0.1:6379 in the "you see" text stands for that one;
- "mid-wait", "goes away" / "中途", "等待期间": a private Redis of its own, stopped once the
  script prints that it waits;
- "no worker" / "没有 worker": the private Redis, no worker; otherwise the chapter's worker
  (its Procfile line) runs in the scratch copy.
A row this module cannot read fails and says so: a new row needs words from the list above.
Runs happen in scratch copies, never in the chapter folders, and never on port 6379.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from tour import procs, runner, walkthrough
from tour.redis_server import RedisServer

ROOT = Path(__file__).resolve().parent.parent
DOWN = "redis://127.0.0.1:1"          # nothing listens on port 1
DEFAULT_ADDRESS = "redis://127.0.0.1:6379"  # what the README shows; never used by this module
HEADERS = {"README.md": ("you run", "you see", "do this"),
           "README.zh-CN.md": ("你运行", "你看到", "这样做")}
ANY_SCRIPT = ("any script", "任意脚本")
REDIS_DOWN = ("redis stopped", "but down", "redis 没有运行", "连不上")
MID_WAIT = ("mid-wait", "goes away", "went away", "中途", "等待期间")
NO_WORKER = ("no worker", "没有 worker")
OUTSIDE = ("outside a chapter folder", "在章节目录之外")  # run from the repository's root
# Scripts that never talk to Redis (they cannot show a Redis problem), as in steps.toml.
OFFLINE = ("naive_eta.py", "preview.py", "aps_demo.py", "drill_redis_restart.py", "manage.py migrate")
CODE_SPAN = re.compile(r"``\s?(.+?)\s?``|`([^`]+)`")


# ---------------------------------------------------------------- reading the table

def split_cells(line: str) -> list[str]:
    """The cells of a Markdown table row; a | inside a code span does not split."""
    cells, current, in_code = [], "", False
    for char in line.strip().strip("|"):
        if char == "`":
            in_code = not in_code
        if char == "|" and not in_code:
            cells.append(current.strip())
            current = ""
        else:
            current += char
    cells.append(current.strip())
    return cells


def code_spans(cell: str) -> list[str]:
    return [a or b for a, b in CODE_SPAN.findall(cell)]


def failure_rows(text: str, header: tuple[str, str, str]) -> list[tuple[str, str]]:
    """(you run, you see) of each row of the table with this header."""
    lines = text.splitlines()
    start = next((n for n, line in enumerate(lines)
                  if line.startswith("|") and tuple(split_cells(line)) == header), None)
    assert start is not None, f"no table with the header {' | '.join(header)}"
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        cells = split_cells(line)
        assert len(cells) == 3, f"a row of {len(cells)} cells: {line}"
        rows.append((cells[0], cells[1]))
    return rows


@dataclass(frozen=True)
class Run:
    """What a row runs: a command, in a chapter copy or at the root, in a situation."""
    command: str
    chapter: str          # a chapter folder name, or "" for the repository root
    redis: str            # "private", "down", "mid-wait" or a REDIS_URL value
    worker: bool


@dataclass
class Expected:
    texts: list[str]
    exit: int | None
    within: float | None


def chapter_with(script: str) -> str:
    for chapter in walkthrough.chapters():
        if (chapter.path / script).exists():
            return chapter.name
    raise AssertionError(f"no chapter has {script}")


def first_redis_script(chapter: walkthrough.Chapter) -> str:
    commands = [step.run for step in chapter.steps] + list(chapter.commands.values())
    return next(c for c in commands if c.startswith("python ") and not any(o in c for o in OFFLINE))


def runs_of(cell: str) -> list[Run]:
    """What the "you run" cell asks for (one Run per chapter for "any script")."""
    lowered = cell.lower()
    spans = code_spans(cell)
    env_url = next((s.split("=", 1)[1] for s in spans if s.startswith("REDIS_URL=")), None)
    if any(w in lowered for w in MID_WAIT):
        redis = "mid-wait"
    elif any(w in lowered for w in REDIS_DOWN):
        redis = "down"
    else:
        redis = env_url or "private"
    worker = redis == "private" and not any(w in lowered for w in NO_WORKER)
    commands = [s for s in spans if s.startswith(("make tour", "python ", "celery "))]
    if any(w in lowered for w in ANY_SCRIPT):
        # "any script": every chapter on the learner's Redis (chapter 09 starts its own servers)
        return [Run(first_redis_script(ch), ch.name, redis, worker) for ch in walkthrough.chapters()
                if not ch.own_servers]
    assert len(commands) == 1, (
        f"cannot tell what to run from {cell!r}: name one command in a code span "
        "(`python ...` or `make tour ...`), or say \"any script\" (see this module's docstring)")
    command = commands[0]
    if command.startswith("make tour"):
        args = [a.split("=", 1)[1] for a in command.split()[2:] if a.startswith("CH=")]
        return [Run(" ".join(["python -m tour", *args]), "", redis, False)]
    if any(w in lowered for w in OUTSIDE):
        return [Run(command, "", redis, False)]
    command = command.replace("<wrong id>", str(uuid.UUID(int=0x5EED)))
    return [Run(command, chapter_with(command.split()[1]), redis, worker)]


def expected_of(cell: str) -> Expected:
    texts = code_spans(cell)
    assert texts, f"nothing to compare in {cell!r}: put what you see in a code span"
    outside = CODE_SPAN.sub("", cell)
    exit_code = re.search(r"exit (\d+)|退出码 ?(\d+)", outside)
    within = re.search(r"within (\d+) s|(\d+) ?秒以内", outside)
    return Expected(texts, int(next(filter(None, exit_code.groups()))) if exit_code else None,
                    float(next(filter(None, within.groups()))) if within else None)


def pattern_of(text: str) -> re.Pattern:
    """Whole lines of output matching text, where each `...` stands for anything in a line."""
    return re.compile("^" + ".*?".join(re.escape(part) for part in text.split("...")) + "$",
                      re.MULTILINE)


def table(language: str) -> list[tuple[str, str]]:
    return failure_rows((ROOT / language).read_text(encoding="utf-8"), HEADERS[language])


# ---------------------------------------------------------------- running a row

@dataclass
class Outcome:
    output: str
    returncode: int | None
    seconds: float


class Runner:
    """Runs each distinct Run once (both languages ask for the same ones), each chapter in
    its scratch copy through the tour's runner."""

    def __init__(self, redis_url: str):
        self.redis_url = redis_url
        self.done: dict[Run, Outcome] = {}
        self.chapters: dict[str, runner.ChapterRun] = {}

    def chapter(self, name: str) -> runner.ChapterRun:
        if name not in self.chapters:
            self.chapters[name] = runner.ChapterRun(walkthrough.load(ROOT / name), self.redis_url,
                                                    env={"AUTO": "1"})
        return self.chapters[name]

    def folder(self, chapter: str) -> Path:
        return self.chapter(chapter).path if chapter else ROOT

    def env(self, url: str) -> dict[str, str]:
        return procs.chapter_env(url, {"AUTO": "1"})

    def start_worker(self, chapter: str) -> None:
        run = self.chapter(chapter)
        if not run.procs:
            run.start(next(name for name, command in run.chapter.processes.items()
                           if runner.is_worker(command)))

    def __call__(self, run: Run) -> Outcome:
        if run not in self.done:
            self.done[run] = self.mid_wait(run) if run.redis == "mid-wait" else self.plain(run)
        return self.done[run]

    def plain(self, run: Run) -> Outcome:
        url = {"private": self.redis_url, "down": DOWN}.get(run.redis, run.redis)
        if run.worker:
            self.start_worker(run.chapter)
        result = procs.run_step(run.command, self.folder(run.chapter), self.env(url), timeout=90)
        assert not result.timed_out, f"`{run.command}` still running after 90 s:\n{result.output}"
        return Outcome(result.output, result.returncode, result.seconds)

    def mid_wait(self, run: Run) -> Outcome:
        server = RedisServer.start(Path(self.folder(run.chapter)).parent / f"redis-{len(self.done)}",
                                   appendonly=False)
        proc = procs.Proc("script", run.command, self.folder(run.chapter), self.env(server.url))
        try:
            proc.start()
            proc.wait_for(r"(?i)wait", timeout=60)
            time.sleep(0.5)
            started = time.monotonic()
            server.stop()
            deadline = started + 60
            while proc.running() and time.monotonic() < deadline:
                time.sleep(0.1)
            seconds = time.monotonic() - started
            assert not proc.running(), f"`{run.command}` still waiting 60 s after Redis went away"
        finally:
            returncode = proc.stop()
            server.stop()
        return Outcome(proc.output(), returncode, seconds)

    def close(self) -> None:
        for run in self.chapters.values():
            run.close()


@pytest.fixture(scope="module")
def failures_runner(redis_url):
    failures = Runner(redis_url)
    yield failures
    failures.close()


def check_row(row: tuple[str, str], failures: Runner) -> list[str]:
    """Run a row; the problems found (empty: the README says what is printed)."""
    you_run, you_see = row
    expected = expected_of(you_see)
    problems = []
    for run in runs_of(you_run):
        outcome = failures(run)
        where = f"`{run.command}`" + (f" in {run.chapter}" if run.chapter else "") + f" ({run.redis} Redis)"
        for text in expected.texts:
            if run.redis == "down":
                text = text.replace(DEFAULT_ADDRESS, DOWN)
            if not pattern_of(text).search(outcome.output):
                problems.append(f"{where}: no line reads {text!r}; it printed:\n{outcome.output}")
        if expected.exit is not None and outcome.returncode != expected.exit:
            problems.append(f"{where}: exit code {outcome.returncode}, the README says {expected.exit}")
        if expected.within is not None and outcome.seconds > expected.within:
            problems.append(f"{where}: took {outcome.seconds:.1f} s, the README says within "
                            f"{expected.within:.0f} s")
    return problems


# ---------------------------------------------------------------- the tests

def test_both_languages_have_the_same_rows():
    """Same number of rows, same commands and the same text to see, in the same order."""
    english, chinese = table("README.md"), table("README.zh-CN.md")
    assert len(english) >= 1
    assert [(code_spans(a), code_spans(b)) for a, b in english] == \
           [(code_spans(a), code_spans(b)) for a, b in chinese]


def test_every_row_prints_what_the_readme_says(failures_runner):
    """Both languages in one test: each distinct command runs once, for both tables."""
    problems = []
    for language in HEADERS:
        for number, row in enumerate(table(language), start=1):
            problems += [f"{language} row {number}: {p}" for p in check_row(row, failures_runner)]
    assert not problems, "\n\n".join(problems)


# ---------------------------------------------------------------- self-tests (no processes)

def test_dots_stand_for_a_left_out_part_and_nothing_else():
    assert pattern_of("[!] no result after 20 s. Is ...").search("x\n[!] no result after 20 s. Is it\n")
    assert not pattern_of("[!] no result after 20 s.").search("[!] no result after 20 s. Is it")
    assert not pattern_of("[!] no result after 20 s").search("[!] no result after 3 s")
    assert not pattern_of("a ... b").search("a x\ny b")  # `...` stays within a line


def test_cells_are_read_in_both_languages():
    english = runs_of("any script, Redis stopped")
    assert [r.chapter for r in english] == [ch.name for ch in walkthrough.chapters()
                                            if not ch.own_servers]
    assert english == runs_of("任意脚本，Redis 没有运行")
    assert runs_of("`make tour CH=9`") == [Run("python -m tour 9", "", "private", False)]
    tour_down = runs_of("`make tour`, `REDIS_URL` set but down")
    assert tour_down == runs_of("`make tour`，设置了 `REDIS_URL` 但连不上") == [Run("python -m tour", "", "down", False)]
    assert runs_of("`python submit.py`, no worker")[0].worker is False
    assert runs_of("`python bad_input.py`: an argument")[0] == Run("python bad_input.py", "01_quickstart", "private", True)
    assert runs_of("any script, `REDIS_URL=localhost:6379`")[0].redis == "localhost:6379"
    assert expected_of("`x` (exit 1, within 10 s)") == Expected(["x"], 1, 10.0)
    assert expected_of("``a `b` c``（退出码 2）") == Expected(["a `b` c"], 2, None)
    with pytest.raises(AssertionError, match="cannot tell what to run"):
        runs_of("a task called with an argument JSON cannot carry")
