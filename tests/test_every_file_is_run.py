"""Every `.py` file of a chapter is run by the walkthrough, or imported by a file that is
(the rustlings rule: nothing in a chapter that no step, command or process uses).

The entry points are the chapter's commands, exactly as steps.toml and the Procfile give them
(`[[step]] run`, `[commands]`, Procfile lines):
- `python x.py ...`                 -> x.py
- `python -m pytest x.py ...`       -> x.py (chapter 07's tests of its own tasks)
- `python manage.py <cmd> ...`      -> manage.py, and the management command <cmd>
                                       (`<app>/management/commands/<cmd>.py` of a local app)
- `celery -A <name>[:<attr>] ...`   -> the module <name>; for a package without the app in
  its `__init__.py`, also `<name>/celery.py`, where Celery's own find_app
  (celery/app/utils.py) looks next; `-I <module>` (`--include`) of a worker, too.

From each used file, the static imports (ast: `import a.b`, `from a import b`, relative
imports, anywhere in the file, also inside functions) of modules in the chapter folder (the
folder is sys.path[0] for all of these commands) are used too; importing `a.b.c` also runs
`a/__init__.py` and `a/b/__init__.py`. Beyond `import` statements, what the frameworks import
by name counts, and only that:
- Celery: the strings of `include=[...]` given to an app (the worker imports them at start),
  the module named by `app.config_from_object("celeryconfig")` (a settings module of the
  chapter: Celery's loader imports it from the current folder), and `autodiscover_tasks()`,
  which imports `<app>/tasks.py` of each local Django app;
- Django: the settings module named by `DJANGO_SETTINGS_MODULE` in manage.py; every string of
  that module naming a local module or an attribute of one (INSTALLED_APPS,
  MIDDLEWARE, ROOT_URLCONF, WSGI_APPLICATION, CELERY_BEAT_SCHEDULER's `module:Class`); `include("app.urls")` in a urls module; and
  for each local app in INSTALLED_APPS the modules Django loads itself: `apps.py`,
  `models.py`, `admin.py` (admin's autodiscover), `migrations/*.py` (`migrate` runs them,
  and a step runs `migrate`). A management command counts only when a command runs it.

A task name sent as a string (`app.send_task("celery_task.add")`) imports nothing, so it
does not count. (Chapter 02's coupon_task.py, deliberately left out of include=[...], is used:
send_unregistered.py imports it to send the task, and `worker_with_coupons` loads it with -I.)

The self-tests at the bottom run the same analysis on a scratch copy of a chapter with an
unused file added, and with one import removed, and check both are reported.
"""

from __future__ import annotations

import ast
import re
import shlex
import shutil
from pathlib import Path

import pytest

from tour import walkthrough

CHAPTERS = walkthrough.chapters()
DJANGO_STANDARD = ("apps", "models", "admin")
DOTTED = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")


def python_files(folder: Path) -> set[Path]:
    """The chapter's .py files; exercises/ is left to tests/test_exercises.py, which runs each
    exercise and its solution through its check."""
    return {path for path in folder.rglob("*.py")
            if not any(part in ("__pycache__", "exercises") or part.startswith(".")
                       for part in path.relative_to(folder).parts)}


def module_file(folder: Path, dotted: str) -> Path | None:
    """The file of a module or package of the chapter folder, or None (not the chapter's)."""
    base = folder.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def module_name(folder: Path, path: Path) -> str:
    parts = list(path.relative_to(folder).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def with_parents(folder: Path, dotted: str) -> set[Path]:
    """A module's file and the __init__.py of every package above it."""
    parts = dotted.split(".")
    found = {module_file(folder, ".".join(parts[:n])) for n in range(1, len(parts) + 1)}
    return {path for path in found if path}


def named_module(folder: Path, dotted: str) -> set[Path]:
    """`a.b.c` as a module, or as an attribute of the module `a.b` (`luffy_api.wsgi.application`);
    `a.b:C` too, Celery's way of naming a class (CELERY_BEAT_SCHEDULER: kombu's symbol_by_name)."""
    if re.fullmatch(rf"{DOTTED.pattern}:[A-Za-z_]\w*", dotted):
        dotted = dotted.replace(":", ".")
    if not DOTTED.fullmatch(dotted):
        return set()
    while dotted:
        if module_file(folder, dotted):
            return with_parents(folder, dotted)
        dotted = dotted.rpartition(".")[0]
    return set()


def strings(node: ast.AST) -> list[str]:
    return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def call_name(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def local_apps(folder: Path, settings: Path) -> list[str]:
    tree = ast.parse(settings.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if (isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "INSTALLED_APPS" for t in node.targets)):
            return [name.split(".apps.")[0] for name in strings(node.value)
                    if module_file(folder, name.split(".apps.")[0])]
    return []


class Usage:
    """Which files of one chapter folder its commands run or import."""

    def __init__(self, folder: Path, commands: list[str] = ()):
        self.folder = folder
        self.migrate = any(shlex.split(c)[:3] == ["python", "manage.py", "migrate"] for c in commands)
        self.used: set[Path] = set()
        self.why: dict[Path, str] = {}
        self.settings: Path | None = None

    def add(self, paths: set[Path] | Path | None, why: str) -> None:
        for path in {paths} if isinstance(paths, Path) else (paths or set()):
            if path not in self.used:
                self.used.add(path)
                self.why[path] = why
                self.follow(path)

    def add_module(self, dotted: str, why: str) -> None:
        self.add(with_parents(self.folder, dotted), why)

    # ---- entry points: the commands
    def command(self, line: str) -> None:
        words = shlex.split(line)
        if words[:3] == ["python", "-m", "pytest"]:
            for word in words[3:]:
                if word.endswith(".py"):
                    self.add(self.folder / word, f"`{line}`")
        elif words[0] == "python" and len(words) > 1 and words[1].endswith(".py"):
            self.add(self.folder / words[1], f"`{line}`")
            if words[1] == "manage.py" and len(words) > 2:
                for app in self.django_apps():
                    if module_file(self.folder, f"{app}.management.commands.{words[2]}"):
                        self.add_module(f"{app}.management.commands.{words[2]}", f"`{line}`")
        elif words[0] == "celery":
            for flag, value in zip(words, words[1:]):
                if flag in ("-A", "--app"):
                    name = value.split(":")[0]
                    self.add_module(name, f"`{line}`")
                    package = module_file(self.folder, name)
                    if package and package.name == "__init__.py" and ":" not in value:
                        self.add_module(f"{name}.celery", f"`{line}` (Celery's find_app looks in {name}.celery)")
                if flag in ("-I", "--include"):
                    for module in value.split(","):
                        self.add_module(module, f"`{line}`")

    def django_apps(self) -> list[str]:
        return local_apps(self.folder, self.settings) if self.settings else []

    # ---- what a used file imports
    def follow(self, path: Path) -> None:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        name = module_name(self.folder, path) if path.parent != self.folder or path.stem != "__init__" else ""
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        why = f"imported by {path.relative_to(self.folder)}"
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    self.add(with_parents(self.folder, alias.name), why)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".") if package else []
                    base = base[:len(base) - (node.level - 1)] if node.level > 1 else base
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                if module:
                    self.add(with_parents(self.folder, module), why)
                for alias in node.names:  # `from pkg import submodule`
                    sub = f"{module}.{alias.name}" if module else alias.name
                    if module_file(self.folder, sub):
                        self.add(with_parents(self.folder, sub), why)
            elif isinstance(node, ast.keyword) and node.arg in ("include", "imports"):
                for dotted in strings(node.value):  # Celery(..., include=[...]), imports=[...]
                    self.add(named_module(self.folder, dotted), f"{why} (Celery's {node.arg}=[...])")
            elif isinstance(node, ast.Call) and call_name(node) == "config_from_object":
                for dotted in strings(node)[:1]:  # app.config_from_object("celeryconfig")
                    self.add(named_module(self.folder, dotted.replace(":", ".")),
                             f"{why} (Celery's config_from_object)")
            elif isinstance(node, ast.Call) and call_name(node) == "include":
                for dotted in strings(node):  # Django's include("app.urls")
                    self.add(named_module(self.folder, dotted), f"{why} (Django's include())")
            elif isinstance(node, ast.Call) and call_name(node) == "autodiscover_tasks":
                for app in self.django_apps():
                    self.add(with_parents(self.folder, f"{app}.tasks"), f"{why} (autodiscover_tasks)")
            elif (isinstance(node, ast.Call) and call_name(node) == "setdefault"
                  and "DJANGO_SETTINGS_MODULE" in strings(node)):
                self.django_settings(strings(node)[-1], why)

    def django_settings(self, dotted: str, why: str) -> None:
        if self.settings or not module_file(self.folder, dotted):
            return  # read once (manage.py and the Celery app both name it)
        self.settings = module_file(self.folder, dotted)
        self.add_module(dotted, f"{why} (DJANGO_SETTINGS_MODULE)")
        for text in strings(ast.parse(self.settings.read_text(encoding="utf-8"))):
            self.add(named_module(self.folder, text), f"named in {dotted} (Django imports it)")
        for app in self.django_apps():
            for standard in DJANGO_STANDARD:
                self.add(module_file(self.folder, f"{app}.{standard}"), f"Django loads {app}.{standard}")
            for migration in sorted((self.folder / app / "migrations").glob("*.py")) if self.migrate else ():
                self.add(migration, f"`manage.py migrate` runs {app}'s migrations")


def analyse(folder: Path, commands: list[str]) -> Usage:
    usage = Usage(folder, commands)
    manage = [c for c in commands if c.startswith("python manage.py")]
    for command in manage[:1] + commands:  # manage.py first: it names the Django settings
        usage.command(command)
    return usage


def chapter_commands(chapter: walkthrough.Chapter) -> list[str]:
    return ([step.run for step in chapter.steps] + list(chapter.commands.values())
            + list(chapter.processes.values()))


def unused(folder: Path, commands: list[str]) -> list[str]:
    usage = analyse(folder, commands)
    return sorted(str(path.relative_to(folder)) for path in python_files(folder) - usage.used)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda ch: ch.name)
def test_every_python_file_is_run_or_imported(chapter):
    left = unused(chapter.path, chapter_commands(chapter))
    assert not left, (
        f"{chapter.name}: no step, [commands] entry or Procfile line runs these files, and none "
        f"of the files they run imports them: {left}. Run each from steps.toml (and show it in "
        "the README), import it, or remove it")


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda ch: ch.name)
def test_every_command_names_files_that_exist(chapter):
    """A command's `python x.py` or `celery -A name` points at a file of the chapter."""
    for command in chapter_commands(chapter):
        words = shlex.split(command)
        if words[0] == "python" and words[1].endswith(".py"):
            assert (chapter.path / words[1]).is_file(), f"{chapter.name}: `{command}`: no {words[1]}"
        if words[0] == "celery":
            name = words[words.index("-A") + 1].split(":")[0]
            assert module_file(chapter.path, name), f"{chapter.name}: `{command}`: no module {name}"


# ---------------------------------------------------------------- self-tests: it can fail

def scratch_copy(tmp_path: Path, number: str) -> tuple[Path, list[str]]:
    chapter = walkthrough.find(number)
    copy = tmp_path / chapter.name
    shutil.copytree(chapter.path, copy, ignore=shutil.ignore_patterns("__pycache__", ".*"))
    return copy, chapter_commands(chapter)


def test_selftest_an_added_file_nobody_runs_is_reported(tmp_path):
    copy, commands = scratch_copy(tmp_path, "01")
    assert unused(copy, commands) == []
    (copy / "leftover.py").write_text("print('nobody runs me')\n")
    (copy / "helpers").mkdir()
    (copy / "helpers" / "__init__.py").write_text("")
    assert unused(copy, commands) == ["helpers/__init__.py", "leftover.py"]


def test_selftest_a_file_imported_by_nothing_any_more_is_reported(tmp_path):
    copy, commands = scratch_copy(tmp_path, "03")
    assert unused(copy, commands) == []
    trap = copy / "visibility_trap.py"
    text = trap.read_text()
    assert "from visibility_apps import" in text
    trap.write_text(text.replace("from visibility_apps import", "from celery_task import"))
    procfile = [c for c in commands if "visibility_apps" not in c]  # nor the trap workers
    assert unused(copy, procfile) == ["visibility_apps.py"]


def test_selftest_a_task_module_left_out_of_include_is_reported(tmp_path):
    copy, commands = scratch_copy(tmp_path, "04")
    assert unused(copy, commands) == []
    app = copy / "celery_task" / "celery.py"
    text = app.read_text()
    assert '"celery_task.order_task",' in text
    app.write_text(text.replace('"celery_task.order_task",', ""))
    assert unused(copy, commands) == ["celery_task/order_task.py"]


def test_selftest_django_commands_count_only_when_run(tmp_path):
    copy, commands = scratch_copy(tmp_path, "05")
    assert unused(copy, commands) == []
    fewer = [c for c in commands if "image_urls" not in c]
    assert unused(copy, fewer) == ["home/management/commands/image_urls.py"]
    no_migrate = [c for c in commands if c != "python manage.py migrate"]
    assert unused(copy, no_migrate) == ["home/migrations/0001_initial.py",
                                        "home/migrations/0002_refresh_banner_schedule.py",
                                        "home/migrations/__init__.py"]
