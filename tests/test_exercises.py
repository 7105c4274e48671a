"""The exercises (`make check`, tour/exercises.py), proven both ways for every chapter: as
shipped, each fails its check with a hint (a NotYet, not a crash of the check); with the
reference solutions copied over them, each passes. Both against a real worker and a Redis of
the test's own (the learner's is never touched, and no other test's leftovers are in it).

The structural half (the rustlings rule): every chapter has 2 to 4 exercises, each with a
goal (a docstring), a TODO, a solution in exercises/solutions/ and a check; no check or
solution exists without its exercise. Each chapter with exercises is proven below, so an
exercise nobody proves cannot exist."""

from __future__ import annotations

import ast
import shutil
import subprocess
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.readme_output import difference
from tour import exercises, walkthrough

CHAPTERS = walkthrough.chapters()
NAMES = [chapter.name for chapter in CHAPTERS]


@pytest.fixture
def own_redis():
    server = exercises.private_redis()
    yield server.url
    exercises.stop_private(server)


@pytest.fixture
def second_redis():
    """The solutions are checked while the shipped files are: on a server of their own, so
    the two workers never take each other's tasks."""
    server = exercises.private_redis()
    yield server.url
    exercises.stop_private(server)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=NAMES)
def test_every_chapter_has_exercises(chapter):
    files = exercises.exercise_files(chapter)
    assert 2 <= len(files) <= 4, f"{chapter.name}/exercises/: {len(files)} exercises, expected 2 to 4"
    numbers = [int(exercises.EXERCISE.match(path.name)[1]) for path in files]
    assert numbers == list(range(1, len(files) + 1)), f"{chapter.name}: numbered {numbers}"
    checks = exercises.checks_of(chapter)
    folder = chapter.path / "exercises"
    for path in files:
        text = path.read_text(encoding="utf-8")
        goal = ast.get_docstring(ast.parse(text))
        assert goal and goal.startswith(f"Exercise {int(path.name[2:path.name.index('_')])}:"), (
            f"{path.name}: the docstring states the goal, starting 'Exercise N: ...'")
        assert "TODO" in text, f"{path.name}: no TODO marks where the learner writes"
        solution = exercises.solution_of(path)
        assert solution.exists(), f"{path.name}: no solution in exercises/solutions/"
        assert "TODO" not in solution.read_text(encoding="utf-8"), f"solutions/{path.name} has a TODO"
        assert path.stem in checks, f"{path.name}: no check in tour/checks/ch{chapter.number}.py"
    names = {path.stem for path in files}
    assert set(checks) <= names, f"checks without an exercise: {sorted(set(checks) - names)}"
    extra = {p.name for p in folder.iterdir() if p.suffix == ".py"} - {p.name for p in files}
    assert not extra, f"{chapter.name}/exercises/: files that are not exercises: {sorted(extra)}"
    solutions = {p.name for p in (folder / "solutions").glob("*.py")}
    assert solutions == {p.name for p in files}, "exercises/solutions/ holds exactly one per exercise"


@pytest.mark.parametrize("chapter", [c for c in CHAPTERS if exercises.exercise_files(c)],
                         ids=[c.name for c in CHAPTERS if exercises.exercise_files(c)])
def test_exercises_both_ways(chapter, own_redis, second_redis):
    with ThreadPoolExecutor(2) as pool:
        solved_later = pool.submit(exercises.check_chapter, chapter, second_redis, solutions=True)
        shipped = exercises.check_chapter(chapter, own_redis)
        solved = solved_later.result()
    for outcome in shipped:
        assert not outcome.ok, f"{outcome.name} passes as shipped: {outcome.line}"
        assert outcome.hint, f"{outcome.name}: the check did not give a hint: {outcome.line}"
        assert outcome.line.strip(), f"{outcome.name}: an empty hint"
    failed = [f"{o.name}: {o.line}" for o in solved if not o.ok]
    assert not failed, "the reference solutions fail their checks:\n" + "\n".join(failed)


def test_a_file_that_does_not_import_is_named_with_its_line(own_redis, tmp_path, monkeypatch):
    """A syntax error in the learner's file: that exercise says so with the line, the others
    of the chapter are still checked (the worker starts without it)."""
    chapter = walkthrough.find("01")
    copy = tmp_path / chapter.name
    shutil.copytree(chapter.path, copy)
    target = copy / "exercises" / "ex1_register.py"
    target.write_text(target.read_text() + "\ndef broken(:\n", encoding="utf-8")
    outcomes = exercises.check_chapter(walkthrough.load(copy), own_redis)
    first = outcomes[0]
    assert not first.ok and "does not import: SyntaxError" in first.line and "line 17" in first.line, first.line
    assert all(o.hint for o in outcomes), [o.line for o in outcomes]


def test_make_check_names_a_wrong_chapter():
    done = subprocess.run([sys.executable, "-m", "tour.exercises", "12"], capture_output=True,
                          text=True, timeout=30, cwd=walkthrough.ROOT)
    assert done.returncode == 2
    assert done.stdout.startswith("[!] no chapter '12'"), done.stdout


def test_root_readme_shows_what_make_check_prints():
    """The root README's `$ make check CH=01`, run as the learner types it (from the
    repository's folder, the Makefile's target), prints what the README shows."""
    sample = next(s for s in walkthrough.readme_samples((walkthrough.ROOT / "README.md").read_text())
                  if s.command == "make check CH=01")
    env = {key: value for key, value in os.environ.items()  # as in a terminal: not inside make test
           if key not in ("CH", "REDIS_URL", "MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    done = subprocess.run(["make", "check", "CH=01"], capture_output=True, text=True, timeout=120,
                          cwd=walkthrough.ROOT, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    problem = difference(sample.output, done.stdout.splitlines())
    assert not problem, problem
