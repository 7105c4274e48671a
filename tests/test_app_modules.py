"""The first file a learner opens is the lesson: the app, its settings, its tasks.

For every chapter, the module `celery -A <app>` loads (`celery_task.py`, or `celery.py` inside
the app's package) and the package's task modules (`*_task.py`, `tasks.py`) may hold only:
a docstring, imports, assignments (URLs, settings), calls on the app or on `os.environ`
(`app.conf.update(...)`, `app.config_from_object("celeryconfig")`, `app.autodiscover_tasks()`,
`os.environ.setdefault(...)`), and functions decorated as tasks. No guard that exits, no
helper function, no class: helpers live in sibling modules named for what they do.
Chapters 01 and 02 keep their app module within 40 lines of code, the size of Celery's own
`examples/next-steps/proj/celery.py` plus its settings.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tour import walkthrough

CHAPTERS = walkthrough.chapters()
MAX_CODE_LINES = {"01": 40, "02": 40}
TASK_DECORATORS = {"task", "shared_task"}


def app_module(chapter) -> Path:
    folder = chapter.path
    package = folder / chapter.app
    return package / "celery.py" if package.is_dir() else folder / f"{chapter.app}.py"


def lesson_modules(chapter) -> list[Path]:
    """The app module, and the task modules of the packages in the chapter folder."""
    folder = chapter.path
    found = [app_module(chapter)]
    for package in sorted(p.parent for p in folder.glob("*/__init__.py")):
        found += sorted(package.glob("*_task.py")) + sorted(package.glob("tasks.py"))
    return found


def root_name(node: ast.AST) -> str:
    """`app` for app.conf.update(...), `os` for os.environ.setdefault(...)."""
    while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else ""


def is_task(function: ast.FunctionDef) -> bool:
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if name in TASK_DECORATORS:
            return True
    return False


def problems_in(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for index, node in enumerate(tree.body):
        where = f"{path.name}:{node.lineno}"
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.Assign, ast.AnnAssign)):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and index == 0:
            continue  # the docstring
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            if root_name(node.value) in {"app", "os"}:
                continue
        if isinstance(node, ast.FunctionDef) and is_task(node):
            continue
        kind = type(node).__name__
        name = getattr(node, "name", "")
        found.append(f"{where}: {kind} {name}".rstrip() + " is neither the app, a setting nor a task")
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and ast.unparse(node.func) in {"sys.exit", "exit", "quit"}:
            found.append(f"{path.name}:{node.lineno}: exits the process (scripts check, the app does not)")
    return found


def code_lines(path: Path) -> int:
    """Lines that are not blank, not only a comment, and not the module docstring."""
    tree = ast.parse(path.read_text())
    docstring = set()
    first = tree.body[0] if tree.body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        docstring = set(range(first.lineno, first.end_lineno + 1))
    return sum(
        1
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if line.strip() and not line.strip().startswith("#") and number not in docstring
    )


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.name for c in CHAPTERS])
def test_app_module_holds_the_app_its_settings_and_its_tasks(chapter):
    modules = lesson_modules(chapter)
    assert modules[0].exists(), f"{chapter.name}: no app module at {modules[0]}"
    problems = [p for module in modules for p in problems_in(module)]
    assert not problems, f"{chapter.name}: move these into a helper module:\n" + "\n".join(problems)


@pytest.mark.parametrize("number", sorted(MAX_CODE_LINES))
def test_first_app_modules_are_small(number):
    chapter = walkthrough.find(number)
    path = app_module(chapter)
    assert code_lines(path) <= MAX_CODE_LINES[number], (
        f"{path.relative_to(walkthrough.ROOT)} has {code_lines(path)} lines of code; "
        f"at most {MAX_CODE_LINES[number]}")


def test_the_checks_can_fail(tmp_path):
    """A helper function, a class, an exit: each is reported; a plain app passes."""
    plain = tmp_path / "plain.py"
    plain.write_text('"""doc"""\nimport os\nfrom celery import Celery\n'
                     'app = Celery("x")\napp.conf.update(task_serializer="json")\n'
                     '@app.task\ndef add(a, b):\n    return a + b\n')
    assert problems_in(plain) == [] and code_lines(plain) == 7
    busy = tmp_path / "busy.py"
    busy.write_text('import sys\nif True:\n    sys.exit("no")\n'
                    'def helper():\n    pass\nclass Step:\n    pass\n')
    problems = problems_in(busy)
    assert [p.split(":")[1] for p in problems] == ["2", "4", "6", "3"], problems
