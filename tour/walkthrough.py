"""Read a chapter's walkthrough: its Procfile (long-running processes) and steps.toml.

These two files are the single source of truth for a chapter: the README shows the same
commands (a test checks that), the tour runs them, and the tests run them.

steps.toml, every key:
    title = "Quickstart"                 # shown by the tour
    app = "celery_task"                  # what `celery -A` names
    databases = { broker = 1, backend = 2 }   # the Redis databases the chapter's app appends
                                         # to REDIS_URL, by role (broker, backend, cache ...);
                                         # the tour pings workers on `broker`; a test checks
                                         # the app uses exactly these and no one else does

    own_servers = true                   # optional: the chapter's scripts start every server
                                         # they use (chapter 09): its databases are on those,
                                         # never on the learner's Redis; no Procfile needed

    [commands]                           # commands the README shows beside the steps; each
    worker_threads = "celery -A celery_task worker -l info -P threads"   # is run by a test

    [ready]                              # optional: the log line meaning a Procfile process
    web = "Quit the server with"         # is ready (default: beat "beat: Starting", flower
                                         # "Visit me at"; a worker: "ready." then a ping)

    [[step]]                             # the walkthrough, in order
    run = "python submit.py"             # the command, exactly as a learner types it
    say = "Send add(2, 3) three ways."   # the tour's narration
    expect = ['add\\(2, 3\\) = 5']         # regular expressions the output must contain
    exit = 0                             # expected exit code (default 0)
    timeout = 60                         # seconds before the step is stopped (default 60)
    worker_log = ['succeeded']           # extra process lines the tour shows after it
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from honcho.environ import parse_procfile

ROOT = Path(__file__).resolve().parent.parent
CHAPTER_DIR = re.compile(r"^\d\d_[a-z0-9_]+$")
# The log line that means a Procfile process is ready, unless steps.toml's [ready] says
# otherwise. Workers are pinged instead.
DEFAULT_READY = {"beat": r"beat: Starting", "flower": r"Visit me at"}


@dataclass
class Step:
    run: str
    say: str = ""
    expect: list[str] = field(default_factory=list)
    exit: int = 0
    timeout: float = 60.0
    worker_log: list[str] = field(default_factory=list)


@dataclass
class Chapter:
    path: Path
    title: str
    app: str
    databases: dict[str, int]
    processes: dict[str, str]
    steps: list[Step]
    commands: dict[str, str]
    ready: dict[str, str]
    own_servers: bool = False

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def number(self) -> str:
        return self.name[:2]

    def broker_url(self, redis_url: str) -> str:
        return self.url(redis_url, "broker")

    def url(self, redis_url: str, role: str) -> str:
        """REDIS_URL with the database the chapter uses for role (broker, backend, cache)."""
        return f"{redis_url.rstrip('/')}/{self.databases[role]}"

    def command(self, key: str) -> str:
        """A named command: a Procfile process, or an entry of [commands]."""
        if key in self.processes:
            return self.processes[key]
        return self.commands[key]


def load(path: Path) -> Chapter:
    data = tomllib.loads((path / "steps.toml").read_text(encoding="utf-8"))
    procfile = path / "Procfile"
    processes = dict(parse_procfile(procfile.read_text()).processes) if procfile.exists() else {}
    return Chapter(
        path=path,
        title=data["title"],
        app=data["app"],
        databases={role: int(number) for role, number in data["databases"].items()},
        processes=processes,
        steps=[Step(**raw) for raw in data.get("step", [])],
        commands=dict(data.get("commands", {})),
        ready={**DEFAULT_READY, **data.get("ready", {})},
        own_servers=bool(data.get("own_servers", False)),
    )


def chapters() -> list[Chapter]:
    return [load(p) for p in sorted(ROOT.iterdir())
            if p.is_dir() and CHAPTER_DIR.match(p.name) and (p / "steps.toml").exists()]


def find(wanted: str) -> Chapter:
    """'01', '1', '01_quickstart' or 'quickstart' -> that chapter; KeyError listing valid ones."""
    everything = chapters()
    key = wanted.strip().lower().rstrip("/")
    for ch in everything:
        if key in (ch.name, ch.number, ch.number.lstrip("0"), ch.name[3:]):
            return ch
    valid = ", ".join(ch.name for ch in everything)
    raise KeyError(f"no chapter {wanted!r}; valid chapters: {valid} (or a number such as 01)")


FENCE = "```"


def fenced_blocks(text: str) -> list[tuple[str, list[str]]]:
    """(info string, lines) of each fenced code block of a README; a fence may be indented,
    as in a list item."""
    blocks, info, current = [], "", None
    for line in text.splitlines():
        if line.lstrip().startswith(FENCE):
            if current is None:
                info, current = line.strip()[len(FENCE):].strip(), []
            else:
                blocks.append((info, current))
                current = None
        elif current is not None:
            current.append(line)
    return blocks


@dataclass
class Sample:
    """One `$ command` of a README and the output lines shown under it."""
    command: str
    line: int                                  # README line number of the `$ ` line
    output: list[tuple[int, str]] = field(default_factory=list)  # (README line number, text)


def readme_samples(text: str) -> list[Sample]:
    """Every `$ command` in the fenced blocks of a README, with the lines shown under it."""
    found: list[Sample] = []
    indent: int | None = None  # the open fence's indentation; None outside blocks
    current: Sample | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith(FENCE):
            if indent is None:
                indent = len(line) - len(line.lstrip())
            else:
                indent, current = None, None
            continue
        if indent is None:
            continue
        body = line[indent:] if line[:indent].strip() == "" else line.lstrip()
        if body.startswith("$ "):
            current = Sample(body[2:].strip(), number)
            found.append(current)
        elif current is not None:
            current.output.append((number, body))
    for sample in found:
        while sample.output and not sample.output[-1][1].strip():
            sample.output.pop()
    return found


def commands_in(text: str) -> list[str]:
    """The commands a chapter README shows: the `$ ` lines of its fenced code blocks."""
    return [sample.command for sample in readme_samples(text)]


def readme_commands(path: Path) -> list[str]:
    """The commands the README.md in the chapter folder path shows (see commands_in)."""
    return commands_in((path / "README.md").read_text(encoding="utf-8"))
