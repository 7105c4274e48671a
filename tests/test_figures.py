"""Figures that cannot drift: every measured figure a README quotes is rendered from a record.

bench/figures.py renders each `<!-- figures:NAME -->...<!-- /figures:NAME -->` block from
bench/results/*.json (what `make bench` measured, the chapters' drills included). Here:
- every block of every README (both languages) and of bench/RESULTS.md is exactly what the
  records give, and each file has the blocks it should (none lost, none unknown);
- outside the blocks, no sentence presents a figure as measured (the precise form of that
  claim: "measured" / 实测 / 测得 next to a number with a unit);
- the self-tests feed altered copies to the same functions and watch them fail.
No Redis and no process: this reads files.
"""

from __future__ import annotations

import re

import pytest

from bench import figures

RESULTS = figures.load_results()
FENCE = re.compile(r"^\s*```.*?^\s*```", re.DOTALL | re.MULTILINE)
# a number with a unit of time, speed, ratio or count-per-request
FIGURE = re.compile(r"\d[\d,.]*\s*(ms|s|x|%|/s|秒|毫秒|倍|requests?/s|requests per second|个请求)(?![a-z])")
# words that present a number as a result: "measured", "took", "per second" (and Chinese)
MEASURED = re.compile(r"measured|实测|测得|\btook\b|用了|requests per second|每秒", re.IGNORECASE)
TABLE = re.compile(r"^\|.*\|$(?:\n^\|.*\|$)+", re.MULTILINE)


def label(path) -> str:
    return str(path.relative_to(figures.ROOT))


@pytest.mark.parametrize("path", figures.files(), ids=label)
def test_blocks_match_the_records(path):
    assert path.exists(), f"{label(path)} is missing"
    found = figures.problems(path, path.read_text(), RESULTS)
    assert not found, "\n".join(found) + "\n(run `.venv/bin/python -m bench.figures` to " \
        "render them from bench/results, or `make bench` to measure again)"


def measured_claims_outside_blocks(text: str) -> list[str]:
    """Sentences outside code blocks and figure blocks that present a number as measured,
    and tables whose header says "measured" with a figure in a row."""
    text = figures.BLOCK.sub("", FENCE.sub("", text))
    claims = []
    for table in TABLE.findall(text):
        head, *rows = table.splitlines()
        if MEASURED.search(head):
            claims += [row for row in rows if FIGURE.search(row)]
    text = TABLE.sub("", text)
    sentences = re.split(r"(?<=[.;])\s+|(?<=[。；])|\n\s*\n", text)
    return claims + [s.strip() for s in sentences if MEASURED.search(s) and FIGURE.search(s)]


@pytest.mark.parametrize("path", [p for p in figures.files() if p.name.startswith("README")],
                         ids=label)
def test_no_measured_figure_outside_a_block(path):
    claims = measured_claims_outside_blocks(path.read_text())
    assert not claims, (f"{label(path)} quotes measured figures outside a figures block "
                        f"(bench/figures.py): {claims}")


def test_both_languages_render_from_the_same_numbers():
    for name, render in figures.RENDERERS.items():
        if name.startswith("bench-"):
            continue  # bench/RESULTS.md is English only
        en, zh = render(RESULTS, "en"), render(RESULTS, "zh")
        assert en != zh and re.search(r"[\u4e00-\u9fff]", zh), name
        numbers = lambda text: sorted(re.findall(r"\d+(?:\.\d+)?", text.replace(",", "")))  # noqa: E731
        assert numbers(en) == numbers(zh), (name, en, zh)


# --- the checks can fail ----------------------------------------------------------------

def readme() -> tuple:
    path = figures.ROOT / "README.md"
    return path, path.read_text()


def test_self_test_a_changed_figure_is_caught():
    path, text = readme()
    body = next(figures.BLOCK.finditer(text))["body"]
    number = re.search(r"\d+\.\d", body).group(0)
    changed = text.replace(body, body.replace(number, number[:-1] + str((int(number[-1]) + 1) % 10), 1))
    assert changed != text
    found = figures.problems(path, changed, RESULTS)
    assert len(found) == 1 and "figures:measured differs" in found[0], found


def test_self_test_a_changed_record_is_caught():
    path, text = readme()
    altered = {**RESULTS, "drills": {"runs": {**RESULTS["drills"]["runs"], "worker_killed": {
        **RESULTS["drills"]["runs"]["worker_killed"], "lost": 3}}}}
    found = figures.problems(path, text, altered)
    assert found and "figures:measured differs" in found[0]


def test_self_test_a_lost_or_unknown_block_is_caught():
    path, text = readme()
    found = next(figures.BLOCK.finditer(text))
    without = text.replace(found.group(0), found["body"])  # markers gone, figures typed in
    assert any("expected ['measured']" in p for p in figures.problems(path, without, RESULTS))
    unknown = text + "\n<!-- figures:nonsense -->1 s<!-- /figures:nonsense -->\n"
    assert any("no renderer" in p for p in figures.problems(path, unknown, RESULTS))
    half = text.replace("<!-- /figures:measured -->", "")
    assert any("without its partner" in p for p in figures.problems(path, half, RESULTS))


def test_self_test_a_measured_figure_outside_a_block_is_caught():
    assert measured_claims_outside_blocks("The window is 1.9 s (measured here).\n")
    assert measured_claims_outside_blocks("停留的时间（实测 1.0 秒）。")
    assert measured_claims_outside_blocks("200 tasks took 20.3 s on prefork.")
    assert measured_claims_outside_blocks("| claim | measured |\n| --- | --- |\n| a | 5.6 ms |\n")
    assert not measured_claims_outside_blocks("| claim | what |\n| --- | --- |\n| a | 20 s |\n")
    assert not measured_claims_outside_blocks(
        "Wait 20 s for it.\n\n<!-- figures:x -->1.9 s measured<!-- /figures:x -->\n"
        "```\n$ python x.py  # measured 5 ms\n```\n")


def test_self_test_rewrite_restores_the_records():
    path, text = readme()
    body = next(figures.BLOCK.finditer(text))["body"]
    damaged = text.replace(body, "\n\nsomething typed by hand: 9.9 s\n\n")
    assert figures.rewrite(damaged, "en", RESULTS) == text
