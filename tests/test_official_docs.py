"""Each chapter README links the official documentation of what it teaches, in both languages.

A section "## Official documentation" (Chinese: "## 官方文档") near the end of each chapter
README lists at least MIN_LINKS pages of the Celery documentation (stable) and, for the
Django chapters, of Django 5.2's (chapter 09 also links RabbitMQ's and Redis's own docs); README.md and README.zh-CN.md link the same URLs in the
same order. Each URL was looked up when it was written (the pages exist under these
paths); this test keeps the sections from going missing, drifting apart or pointing at
another version.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted(p for p in ROOT.iterdir() if re.match(r"^\d\d_", p.name) and (p / "README.md").exists())
HEADINGS = {"README.md": "## Official documentation", "README.zh-CN.md": "## 官方文档"}
CELERY = "https://docs.celeryq.dev/en/stable/"
DJANGO = "https://docs.djangoproject.com/en/5.2/"
# The servers chapter 09 runs beside Celery, in their own official documentation
SERVERS = ("https://www.rabbitmq.com/docs/", "https://redis.io/docs/")
DJANGO_CHAPTERS = ("05_django_integration", "06_cache_consistency")
MIN_LINKS = 2
LINK = re.compile(r"\]\((https?://[^)\s]+)\)")


def section(text: str, heading: str) -> str:
    """The lines under heading, up to the next heading of the same level (or the end)."""
    lines = text.splitlines()
    assert heading in lines, f"no `{heading}` section"
    start = lines.index(heading) + 1
    end = next((n for n in range(start, len(lines)) if lines[n].startswith("## ")), len(lines))
    return "\n".join(lines[start:end])


def official_links(folder: Path, name: str) -> list[str]:
    return LINK.findall(section((folder / name).read_text(encoding="utf-8"), HEADINGS[name]))


def problems(folder: Path) -> list[str]:
    found = []
    english, chinese = (official_links(folder, name) for name in HEADINGS)
    if english != chinese:
        found.append(f"the two languages link different pages:\n  en {english}\n  zh {chinese}")
    other = [url for url in english if not url.startswith((CELERY, DJANGO, *SERVERS))]
    if other:
        found.append(f"links that are not Celery stable or Django 5.2 pages (or RabbitMQ's, "
                     f"Redis's own docs): {other}")
    if len([url for url in english if url.startswith((CELERY, DJANGO))]) < MIN_LINKS:
        found.append(f"fewer than {MIN_LINKS} official pages: {english}")
    if not any(url.startswith(CELERY) for url in english):
        found.append("no Celery page")
    if folder.name in DJANGO_CHAPTERS and not any(url.startswith(DJANGO) for url in english):
        found.append("no Django page")
    if len(set(english)) != len(english):
        found.append(f"a page is linked twice: {english}")
    return found


def test_every_chapter_is_checked():
    assert len(CHAPTERS) >= 6 and set(DJANGO_CHAPTERS) <= {p.name for p in CHAPTERS}


@pytest.mark.parametrize("folder", CHAPTERS, ids=lambda p: p.name)
def test_chapter_links_the_official_docs_in_both_languages(folder):
    found = problems(folder)
    assert not found, f"{folder.name}: " + "\n".join(found)


def test_the_check_can_fail(tmp_path):
    """A copy whose Chinese README drops a link, or links another version, is refused."""
    folder = tmp_path / "05_django_integration"
    folder.mkdir()
    source = ROOT / "05_django_integration"
    english = (source / "README.md").read_text(encoding="utf-8")
    chinese = (source / "README.zh-CN.md").read_text(encoding="utf-8")
    (folder / "README.md").write_text(english, encoding="utf-8")
    (folder / "README.zh-CN.md").write_text(chinese, encoding="utf-8")
    assert problems(folder) == []
    dropped = "\n".join(line for line in chinese.splitlines() if "topics/cache/" not in line)
    (folder / "README.zh-CN.md").write_text(dropped, encoding="utf-8")
    assert any("different pages" in p for p in problems(folder))
    (folder / "README.zh-CN.md").write_text(chinese, encoding="utf-8")
    (folder / "README.md").write_text(english.replace("/en/5.2/", "/en/4.2/").replace("/en/stable/", "/en/latest/"), encoding="utf-8")
    assert any("not Celery stable or Django 5.2" in p for p in problems(folder))
    (folder / "README.md").write_text(english.replace("## Official documentation", "## Docs"), encoding="utf-8")
    with pytest.raises(AssertionError, match="no `## Official documentation` section"):
        problems(folder)
