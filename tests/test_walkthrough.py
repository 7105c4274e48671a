"""The chapters' structure, and the one-source-of-truth contract.

A chapter's walkthrough lives in its Procfile and steps.toml. The README must show exactly
those commands (the `$ python ...` and `$ celery ...` lines of its code blocks), in the same
order, the tour runs them, and the chapter's test module runs them. These checks fail when
the README and the steps drift apart, or when a chapter has no tests; and at the end of a
whole-suite run (tests/conftest.py) when a step or command was never run by any test.
"""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tour import walkthrough

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = walkthrough.chapters()
EXPECTED = ["01_quickstart", "02_package_layout", "03_delay_tasks", "04_periodic_tasks",
            "05_django_integration", "06_cache_consistency"]


def chapter_commands(readme_lines):
    """The chapter's own commands among the README's `$ ` lines (setup such as make/cd is not;
    gunicorn is chapter 05's production server)."""
    return [c for c in readme_lines if c.split()[0] in ("python", "celery", "gunicorn")]


def test_chapters_are_the_planned_ones_in_order():
    """Every planned chapter exists, in order, and the root README's table lists exactly the
    chapters there are (a chapter deleted or added without the table fails here)."""
    names = [ch.name for ch in CHAPTERS]
    assert names[:len(EXPECTED)] == EXPECTED, names
    table = re.findall(r"^\| \[(\d\d_[a-z0-9_]+)\]\(", (ROOT / "README.md").read_text(), re.MULTILINE)
    assert table == names, (table, names)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda ch: ch.name)
def test_chapter_has_its_parts(chapter):
    # a chapter whose scripts start their own servers and workers (09) needs no Procfile
    parts = ("README.md", "steps.toml") + (() if chapter.own_servers else ("Procfile",))
    for part in parts:
        assert (chapter.path / part).exists(), f"{chapter.name}/{part} is missing"
    assert (ROOT / "tests" / f"test_{chapter.name}.py").exists(), f"{chapter.name} has no tests"
    assert chapter.steps, f"{chapter.name}/steps.toml has no [[step]]"
    for step in chapter.steps:
        for pattern in step.expect:
            re.compile(pattern)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda ch: ch.name)
def test_readme_shows_exactly_the_walkthrough(chapter):
    readme = chapter_commands(walkthrough.readme_commands(chapter.path))
    known = ([step.run for step in chapter.steps] + list(chapter.processes.values())
             + list(chapter.commands.values()))
    not_in_steps = sorted(set(readme) - set(known))
    not_in_readme = sorted(set(known) - set(readme))
    assert not not_in_steps, f"{chapter.name}/README.md shows commands steps.toml does not list: {not_in_steps}"
    assert not not_in_readme, f"{chapter.name}: commands missing from README.md: {not_in_readme}"
    # the steps appear in the README in the order the tour runs them
    position = 0
    for step in chapter.steps:
        assert step.run in readme[position:], (
            f"{chapter.name}: README shows `{step.run}` out of the order of steps.toml")
        position = readme.index(step.run, position) + 1


def test_tour_rejects_an_unknown_chapter_and_lists_the_valid_ones():
    done = subprocess.run([sys.executable, "-m", "tour", "99"], cwd=ROOT, capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 2
    assert "no chapter '99'" in done.stdout and "01_quickstart" in done.stdout


def test_tour_with_redis_down_says_so_in_one_line():
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "tour", "01"], cwd=ROOT, capture_output=True,
                          text=True, timeout=30,
                          env={**os.environ, "REDIS_URL": "redis://:s3cret@127.0.0.1:1", "AUTO": "1"})
    assert done.returncode == 1 and time.monotonic() - started < 10
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1 and "does not answer" in lines[0] and "make redis" in lines[0], lines
    assert "s3cret" not in done.stdout + done.stderr


def test_selftest_a_command_no_test_ran_is_named(monkeypatch):
    """The end-of-suite check (tests/conftest.py) names every command no test ran."""
    from tests import conftest

    chapter = CHAPTERS[0]
    everything = {f"{ch.name}: {c}" for ch in CHAPTERS for c in [s.run for s in ch.steps]
                  + list(ch.processes.values()) + list(ch.commands.values())}
    monkeypatch.setattr(conftest, "RAN", everything - {f"{chapter.name}: {chapter.steps[0].run}"})
    assert conftest.never_run() == [f"{chapter.name}: {chapter.steps[0].run}"]
    monkeypatch.setattr(conftest, "RAN", everything)
    assert conftest.never_run() == []
