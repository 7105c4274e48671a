"""The walkthrough in two languages: README.md (English) and README.zh-CN.md (简体中文).

For the root and for every chapter folder with a README.md:
- README.zh-CN.md exists beside it, and each of the two links to the other;
- both show the same commands in the same order: in a chapter README the `$ ` lines of its
  fenced code blocks (what tour.walkthrough.readme_commands reads), in the root README the
  command lines (make, cd, source, python, celery, docker, export) of its fenced blocks,
  with trailing `# comments` dropped, since the comments are translated;
- the code blocks that hold commands (with their output) or code (```python) are the same
  once comments are dropped: program output stays English, exactly what the scripts print;
  diagrams and file trees may be translated;
- the root's chapter table lists the same chapters in the same order, each English row
  linking to README.md and each Chinese row to README.zh-CN.md;
- every relative link of a Chinese README points to a file that exists, and a `#anchor`
  into a README to a heading it has.

The comparisons are plain functions on strings; the self-tests at the bottom feed them
altered copies to prove that they fail, and with which message.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pytest

from tour import walkthrough

ROOT = Path(__file__).resolve().parent.parent
CHAPTER_DIR = re.compile(r"^\d\d_[a-z0-9_]+$")
EN, ZH = "README.md", "README.zh-CN.md"
ROOT_COMMAND_WORDS = ("make", "cd", "source", "python", "celery", "docker", "export")
FENCE = walkthrough.FENCE
COMMENT = re.compile(r"(^|\s)#(\s.*)?$")  # a `# comment` at the start or after a space
LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]+)\)")
TABLE_LINK = re.compile(r"^\|\s*\[(\d\d_[a-z0-9_]+)\]\(([^)\s]+)\)")


def chapter_dirs() -> list[Path]:
    return [p for p in sorted(ROOT.iterdir())
            if p.is_dir() and CHAPTER_DIR.match(p.name) and (p / EN).exists()]


def readme_pairs() -> list[Path]:
    return [ROOT] + chapter_dirs()


def label(folder: Path) -> str:
    return "root" if folder == ROOT else folder.name


# ---------------------------------------------------------------- parsing (on strings)

fenced_blocks = walkthrough.fenced_blocks  # the one README parser, shared with the tour
dollar_commands = walkthrough.commands_in


def code_blocks(text: str) -> list[list[str]]:
    return [lines for _, lines in fenced_blocks(text)]


def strip_comment(line: str) -> str:
    return COMMENT.sub("", line).rstrip()


def root_commands(text: str) -> list[str]:
    """The root README's commands: lines of fenced blocks that start with a command word."""
    commands = []
    for block in code_blocks(text):
        for line in block:
            command = strip_comment(line.strip())
            if command and command.split()[0] in ROOT_COMMAND_WORDS:
                commands.append(command)
    return commands


def is_command(line: str) -> bool:
    line = strip_comment(line.strip())
    return bool(line) and (line.startswith("$ ") or line.split()[0] in ROOT_COMMAND_WORDS)


def code_without_comments(text: str) -> list[list[str]]:
    """The blocks that hold commands (with their output) or code (```python), comments and
    blank lines dropped. Other blocks, diagrams and file trees, may be translated."""
    out = []
    for info, block in fenced_blocks(text):
        if info or any(is_command(line) for line in block):
            lines = [strip_comment(line) for line in block]
            out.append([line for line in lines if line.strip()])
    return out


def table_chapters(text: str) -> list[tuple[str, str]]:
    """(chapter, link target) for each row of the root's chapter table, in order."""
    return [m.groups() for m in map(TABLE_LINK.match, text.splitlines()) if m]


def links(text: str) -> list[str]:
    """Targets of markdown links outside code blocks."""
    outside, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith(FENCE):
            fenced = not fenced
        elif not fenced:
            outside.append(line)
    return [target for _, target in LINK.findall("\n".join(outside))]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(text: str) -> set[str]:
    found, fenced = set(), False
    for line in text.splitlines():
        if line.lstrip().startswith(FENCE):
            fenced = not fenced
        elif not fenced and re.match(r"#{1,6} ", line):
            found.add(slug(line.lstrip("#")))
    return found


# ---------------------------------------------------------------- comparisons (on strings)

def sequence_difference(what: str, english: list[str], chinese: list[str]) -> str:
    """'' when equal; otherwise which entries differ, where, and a diff of the two lists."""
    if english == chinese:
        return ""
    lines = [f"{what} differ between {EN} and {ZH}:"]
    only_en = [c for c in english if c not in chinese]
    only_zh = [c for c in chinese if c not in english]
    if only_en:
        lines.append(f"  only in {EN}: {only_en}")
    if only_zh:
        lines.append(f"  only in {ZH}: {only_zh}")
    first = next((i for i, (a, b) in enumerate(zip(english, chinese)) if a != b),
                 min(len(english), len(chinese)))
    if not only_en and not only_zh:
        lines.append(f"  same entries, different order or count; first difference at position {first + 1}")
    else:
        lines.append(f"  first difference at position {first + 1}")
    lines.append(f"  {EN}: {english[first] if first < len(english) else '(ends here)'!r}")
    lines.append(f"  {ZH}: {chinese[first] if first < len(chinese) else '(ends here)'!r}")
    lines += ["  diff:"] + ["    " + d for d in difflib.unified_diff(
        english, chinese, EN, ZH, n=1, lineterm="")][2:]
    return "\n".join(lines)


def command_difference(english: str, chinese: str, root: bool) -> str:
    parse = root_commands if root else dollar_commands
    return sequence_difference("the commands", parse(english), parse(chinese))


def code_difference(english: str, chinese: str) -> str:
    en, zh = code_without_comments(english), code_without_comments(chinese)
    if len(en) != len(zh):
        firsts = lambda blocks: [b[0] if b else "(empty)" for b in blocks]  # noqa: E731
        return sequence_difference("the numbers of code blocks (first line of each)",
                                   firsts(en), firsts(zh))
    for number, (a, b) in enumerate(zip(en, zh), start=1):
        if a != b:
            return sequence_difference(f"the lines of code block {number} (counting blocks with "
                                       f"commands or code; comments dropped)", a, b)
    return ""


def table_difference(english: str, chinese: str) -> str:
    en, zh = table_chapters(english), table_chapters(chinese)
    problems = [sequence_difference("the chapters of the root table", [c for c, _ in en],
                                    [c for c, _ in zh])]
    for rows, readme in ((en, EN), (zh, ZH)):
        wrong = [f"{chapter} -> {target}" for chapter, target in rows
                 if target != f"{chapter}/{readme}"]
        if wrong:
            problems.append(f"rows of the table in the root {readme} should link to "
                            f"<chapter>/{readme}, these do not: {wrong}")
    if not en:
        problems.append(f"the root {EN} has no chapter table (rows starting with | [NN_topic](...))")
    return "\n".join(p for p in problems if p)


def link_difference(english: str, chinese: str) -> str:
    problems = []
    if ZH not in links(english):
        problems.append(f"{EN} does not link to {ZH} (add `[中文]({ZH})` under its title)")
    if EN not in links(chinese):
        problems.append(f"{ZH} does not link back to {EN} (add `[English]({EN})` under its title)")
    return "\n".join(problems)


def broken_links(folder: Path, text: str) -> list[str]:
    broken = []
    for target in links(text):
        if re.match(r"^[a-z]+:", target):  # http:, https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        file = (folder / path).resolve() if path else folder / ZH
        if not file.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file.read_text(encoding="utf-8")):
            broken.append(f"{target} (no heading in {path or ZH} has the anchor #{anchor})")
    return broken


# ---------------------------------------------------------------- the tests

def read_pair(folder: Path) -> tuple[str, str]:
    assert (folder / ZH).exists(), (
        f"{label(folder)}: {ZH} is missing; every {EN} has a Chinese sibling")
    return ((folder / EN).read_text(encoding="utf-8"), (folder / ZH).read_text(encoding="utf-8"))


def test_every_chapter_with_a_readme_is_checked():
    """No chapter escapes the checks below: every chapter folder (an NN_name folder, or one
    the tour runs) has a README.md, so it is among the folders they are run on."""
    from tour import walkthrough
    on_disk = {p.name for p in ROOT.iterdir() if p.is_dir() and re.match(r"^\d\d_", p.name)}
    toured = {chapter.name for chapter in walkthrough.chapters()}
    checked = {p.name for p in readme_pairs() if p != ROOT}
    assert toured <= on_disk and len(toured) >= 6, (toured, on_disk)
    missing = sorted((on_disk | toured) - checked)
    assert not missing, f"chapter folders without a {EN}, so never checked: {missing}"
    assert readme_pairs()[0] == ROOT and len(readme_pairs()) == len(checked) + 1


@pytest.mark.parametrize("folder", readme_pairs(), ids=label)
def test_same_commands_in_the_same_order(folder):
    english, chinese = read_pair(folder)
    problem = command_difference(english, chinese, root=folder == ROOT)
    assert not problem, f"{label(folder)}: {problem}"


@pytest.mark.parametrize("folder", readme_pairs(), ids=label)
def test_same_code_and_output(folder):
    english, chinese = read_pair(folder)
    problem = code_difference(english, chinese)
    assert not problem, f"{label(folder)}: {problem}"


@pytest.mark.parametrize("folder", readme_pairs(), ids=label)
def test_each_language_links_to_the_other(folder):
    english, chinese = read_pair(folder)
    problem = link_difference(english, chinese)
    assert not problem, f"{label(folder)}: {problem}"


@pytest.mark.parametrize("folder", readme_pairs(), ids=label)
def test_chinese_links_resolve(folder):
    _, chinese = read_pair(folder)
    broken = broken_links(folder, chinese)
    assert not broken, f"{label(folder)}/{ZH} has broken links: {broken}"


def test_root_tables_list_the_same_chapters():
    english, chinese = read_pair(ROOT)
    problem = table_difference(english, chinese)
    assert not problem, problem


# ---------------------------------------------------------------- self-tests: they can fail

CHAPTER_EN = """# 01 · Title
[中文](README.zh-CN.md)

```
cd 01_quickstart
source ../.venv/bin/activate        # Windows: ..\\.venv\\Scripts\\activate
```

```
$ celery -A celery_task worker -l info
```

```
$ python submit.py
[1] sent add(2, 3)
```

1. Try:
   ```
   $ python check_result.py
   ```
"""

CHAPTER_ZH = """# 01 · 标题
[English](README.md)

```
cd 01_quickstart
source ../.venv/bin/activate        # Windows 上：..\\.venv\\Scripts\\activate
```

```
$ celery -A celery_task worker -l info
```

```
$ python submit.py
[1] sent add(2, 3)
```

1. 试一试：
   ```
   $ python check_result.py
   ```
"""

ROOT_EN = """# celery-by-running-it
[中文](README.zh-CN.md)

```
make tour      # the whole walkthrough
make test      # the test suite
```

| chapter | you learn |
| --- | --- |
| [01_quickstart](01_quickstart/README.md) | app |
| [02_package_layout](02_package_layout/README.md) | package |

```
cd 02_package_layout
python drill_shutdown.py    # warm shutdown
```
"""

ROOT_ZH = """# celery-by-running-it
[English](README.md)

```
make tour      # 完整演练
make test      # 测试
```

| 章节 | 你会学到 |
| --- | --- |
| [01_quickstart](01_quickstart/README.zh-CN.md) | app |
| [02_package_layout](02_package_layout/README.zh-CN.md) | 包 |

```
cd 02_package_layout
python drill_shutdown.py    # 温和关闭
```
"""


def test_selftest_translations_that_agree_pass():
    assert dollar_commands(CHAPTER_EN) == ["celery -A celery_task worker -l info",
                                           "python submit.py", "python check_result.py"]
    assert root_commands(ROOT_EN) == ["make tour", "make test", "cd 02_package_layout",
                                      "python drill_shutdown.py"]
    assert not command_difference(CHAPTER_EN, CHAPTER_ZH, root=False)
    assert not command_difference(ROOT_EN, ROOT_ZH, root=True)
    assert not code_difference(CHAPTER_EN, CHAPTER_ZH)
    assert not code_difference(ROOT_EN, ROOT_ZH)
    assert not table_difference(ROOT_EN, ROOT_ZH)
    assert not link_difference(CHAPTER_EN, CHAPTER_ZH)


def test_selftest_a_missing_command_is_named():
    zh = CHAPTER_ZH.replace("$ python check_result.py\n", "")
    problem = command_difference(CHAPTER_EN, zh, root=False)
    assert "only in README.md: ['python check_result.py']" in problem, problem


def test_selftest_a_changed_command_is_named_with_its_position():
    zh = CHAPTER_ZH.replace("$ python submit.py", "$ python submit.py --no-wait")
    problem = command_difference(CHAPTER_EN, zh, root=False)
    assert "only in README.zh-CN.md: ['python submit.py --no-wait']" in problem, problem
    assert "first difference at position 2" in problem, problem


def test_selftest_a_different_order_is_reported():
    zh = (CHAPTER_ZH.replace("$ python submit.py", "$ SWAP")
          .replace("$ python check_result.py", "$ python submit.py")
          .replace("$ SWAP", "$ python check_result.py"))
    problem = command_difference(CHAPTER_EN, zh, root=False)
    assert "same entries, different order or count; first difference at position 2" in problem, problem


def test_selftest_root_commands_compare_without_comments_but_not_without_commands():
    assert not command_difference(ROOT_EN, ROOT_ZH.replace("# 完整演练", "# 另一个注释"), root=True)
    problem = command_difference(ROOT_EN, ROOT_ZH.replace("make test ", "make tests"), root=True)
    assert "only in README.zh-CN.md: ['make tests']" in problem, problem
    problem = command_difference(ROOT_EN, ROOT_ZH.replace("cd 02_package_layout\n", ""), root=True)
    assert "only in README.md: ['cd 02_package_layout']" in problem, problem


def test_selftest_changed_output_is_reported():
    problem = code_difference(CHAPTER_EN, CHAPTER_ZH.replace("[1] sent add(2, 3)", "[1] 已发送 add(2, 3)"))
    assert "code block 3" in problem and "[1] sent add(2, 3)" in problem, problem


def test_selftest_the_root_table_must_match():
    swapped = (ROOT_ZH.replace("[01_quickstart](01_quickstart/README.zh-CN.md)", "SWAP")
               .replace("[02_package_layout](02_package_layout/README.zh-CN.md)",
                        "[01_quickstart](01_quickstart/README.zh-CN.md)")
               .replace("SWAP", "[02_package_layout](02_package_layout/README.zh-CN.md)"))
    problem = table_difference(ROOT_EN, swapped)
    assert "the chapters of the root table differ" in problem, problem
    problem = table_difference(ROOT_EN, ROOT_ZH.replace("01_quickstart/README.zh-CN.md",
                                                        "01_quickstart/README.md"))
    assert "01_quickstart -> 01_quickstart/README.md" in problem, problem


def test_selftest_the_links_between_languages_are_required():
    problem = link_difference(CHAPTER_EN.replace("[中文](README.zh-CN.md)\n", ""), CHAPTER_ZH)
    assert "README.md does not link to README.zh-CN.md" in problem, problem
    problem = link_difference(CHAPTER_EN, CHAPTER_ZH.replace("[English](README.md)\n", ""))
    assert "README.zh-CN.md does not link back to README.md" in problem, problem


def test_selftest_broken_links_are_found(tmp_path):
    (tmp_path / "01_quickstart").mkdir()
    (tmp_path / "01_quickstart" / ZH).write_text("# 01\n\n## 出问题时：故障演练\n", encoding="utf-8")
    text = ("[ok](01_quickstart/README.zh-CN.md#出问题时故障演练) [web](https://docs.celeryq.dev/) "
            "[bad](02_missing/README.zh-CN.md) [anchor](01_quickstart/README.zh-CN.md#nowhere)")
    assert broken_links(tmp_path, text) == [
        "02_missing/README.zh-CN.md (no such file)",
        "01_quickstart/README.zh-CN.md#nowhere (no heading in 01_quickstart/README.zh-CN.md "
        "has the anchor #nowhere)"]


def test_selftest_slugs_follow_github():
    assert slug("When things go wrong: the failure drills") == "when-things-go-wrong-the-failure-drills"
    assert slug("出问题时：故障演练") == "出问题时故障演练"
    assert slug("Why the module is called `celery.py`") == "why-the-module-is-called-celerypy"
