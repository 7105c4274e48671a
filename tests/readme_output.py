"""A chapter README's sample output, compared with what the walkthrough really printed.

What counts as sample output: in a fenced code block of README.md, a line `$ <command>`
followed by the lines up to the next `$ ` line or the end of the block is what that command
prints (the fence's own indentation is removed; blank lines at the end are dropped). Each
walkthrough step (steps.toml `[[step]]`) is paired with the README's next `$ ` line showing
the same command, in the order of the steps (tests/test_walkthrough.py checks that order).
Only README.md is read: tests/test_languages.py requires README.zh-CN.md's code blocks to
be the same.

The rule, line by line (strict):
- every README line must match a real line, in order; the README may not skip a real line,
  not even at the end, except where it says so:
- a README line that is only `...` stands for any number of real lines (zero or more);
- `...` inside a line stands for any text within that one line (as in
  `'id': '8451985a-...'`), so what a README leaves out is always visible to the reader;
- a step whose README block shows no output at all is an error: show the output, or `...`.

Before two lines are compared both are masked: the values below, which differ from one run
to the next, become placeholders; everything else (counts, results, states, messages,
exit codes) must be exactly the same. Runs of spaces compare as one space (a masked value
changes the width of a column, and the padding with it), and the ends of lines are stripped.
- task ids: uuids, and a uuid shortened to its first group and `-...`          -> <id>
- dates and times of day: `2026-11-27T16:36:41.906777+00:00`, `2026-11-27 16:56:36,976`,
  `16:36:25.224`, `16:36:25`, a date `2026-11-27` (and `04:25` after it), a month-day
  `11-28` after a weekday                                              -> <date>, <time>, <day>
  A weekday stays (`Mon 11-30 08:00:00` is when a Monday crontab fires), and so does a time
  without seconds after a month-day (`Tue 12-01 08:00`); the few lines where they follow
  the day the command runs are in CHAPTER_MASKS.
- a UTC offset of the machine's clock, `UTC+00:00`                             -> UTC<offset>
- measured durations: a decimal number of seconds (`2.0 s`, `2.0s`, `+1.9 s`), any number
  of milliseconds (`16.6 ms`, `82 ms`, a range `2-11 ms`), and a rate per second (`183/s`)
                                                                               -> <n> s, <n>/s
  A whole number of seconds is not masked: it is a setting or a figure the script works out
  (`countdown=12`, `visibility_timeout 2 s`, `every 5 s`), and a README must get it right;
  nor is Celery's `<freq: 1.00 second>`, a schedule's interval.
- process ids (`pid 25324`, `process 25327`, `ForkPoolWorker-3`)                -> <pid>
- ports after a loopback address (`127.0.0.1:6379`, `localhost:8000`)           -> :<port>
- host names: `celery@vm`, `drill@yourhost`                                     -> @<host>
- memory addresses (`0x7f3a2c1b5e10`) and temporary file names (`/tmp/drill-worker-zns9d0_o.log`)
- a few values that vary by the nature of a chapter's demo (chapter 04: the weekday of "now"
  and of the next fires of an interval entry, and how many beat ticks fall inside a 6 s
  window; chapter 06: avalanche.py's per-0.25 s histogram and peaks, from real query times
  and random TTLs): CHAPTER_MASKS below lists each with the reason, and the chapter's own
  asserts check those values instead.

A test that changes a setting on purpose (chapter 05 refreshes the banner cache every 3 s
instead of the README's 5) says so with `as_if`, which rewrites just that value in the real
output before the comparison.

The functions work on strings; the self-tests in tests/test_readme_output.py feed them
altered copies to prove they fail, and with which message.
"""

from __future__ import annotations

import re
from pathlib import Path

from tour import walkthrough

ROOT = Path(__file__).resolve().parent.parent
ELLIPSIS = "..."

WEEKDAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
MASKS: list[tuple[re.Pattern, str]] = [(re.compile(p), r) for p, r in [
    # ids first: their digits would otherwise look like times or numbers
    (r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", "<id>"),
    (r"\b[0-9a-f]{8}-\.\.\.", "<id>"),
    (r"\b0x[0-9a-f]{4,}\b", "0x<addr>"),
    # (not a path into an installed package: a clone under /tmp has its .venv there too)
    (r"/tmp/(?![\w./-]*site-packages/)[\w./-]+", "/tmp/<file>"),
    # dates and times
    (r"\b\d\d\d\d-\d\d-\d\d(?!\d)", "<date>"),
    (rf"(?<=\b{WEEKDAY} )\d\d-\d\d\b", "<day>"),
    (r"(?<![\d:])\d\d:\d\d:\d\d(?:[.,]\d+)?(?:[+-]\d\d:\d\d)?(?!\d)", "<time>"),
    (r"(?<=<date>[T ])\d\d:\d\d\b", "<time>"),
    (r"\bUTC[+-]\d\d:\d\d\b", "UTC<offset>"),
    # durations and rates
    # measured: a decimal number of seconds, or (milli/micro)seconds; a whole number of
    # seconds is a setting or a figure the script works out (`countdown 12 s`, `every 5 s`)
    (r"(?<![\w.])[+-]?\d+\.\d+(?:-\d+\.\d+)?(?= ?s\b)", "<n>"),
    (r"(?<![\w.])[+-]?\d+(?:\.\d+)?(?:-\d+(?:\.\d+)?)?(?= ?(?:ms|µs)\b)", "<n>"),
    (r"(?<![\w.])\d+(?:\.\d+)?/s\b", "<n>/s"),
    # processes, ports, hosts
    (r"\b(pid|process|PID) \d+\b", r"\1 <pid>"),
    (r"\bForkPoolWorker-\d+\b", "ForkPoolWorker-<n>"),
    (r"\b(127\.0\.0\.1|localhost|0\.0\.0\.0):\d+\b", r"\1:<port>"),
    (r"(?<=[\w%])@[\w.%-]+", "@<host>"),
]]

# Values a lesson makes vary on purpose, per chapter: (chapter, pattern, replacement, why).
# They apply after the masks above, to the line with its spaces collapsed.
CHAPTER_MASKS: list[tuple[str, re.Pattern, str, str]] = [
    (chapter, re.compile(pattern), replacement, why) for chapter, pattern, replacement, why in [
        ("04_periodic_tasks", r"^cron\[hour='8-23'\] .*",
         lambda found: re.sub(r"\b\d\d:00\b", "<hh>:00", found[0]),
         "aps_demo.py's next two on-the-hour fires between 08:00 and 23:00 depend on the time "
         "of day in Shanghai (tests/test_04 checks they are consecutive hours in that range)"),
        ("04_periodic_tasks", r"^(\[1\] it is |= \w{3} .* on this machine's clock|\S+ <freq: |cron\[hour='8-23'\] ).*",
         lambda found: re.sub(rf"\b{WEEKDAY}\b", "<weekday>", found[0]),
         "preview.py's clocks (the app's zone's and this machine's) and its interval entries' next fires, and aps_demo.py's next "
         "08:00, fall on the day the command runs: their weekday changes with it (a crontab "
         "entry's weekday does not, and stays exact)"),
        ("04_periodic_tasks",
         r"ran \d+ (expected about \d+ \(one per \d+ s\)) at (?:\+\d+\.\d+, )*<n> s",
         r"ran <n> \1 at <offsets> s",
         "count_runs.py counts an interval entry's runs in a 6 s window that starts wherever "
         "the command happens to start against beat's ticks: a tick near either edge is in or "
         "out, so a count (and its list of offsets) can be one more or less, as the script "
         "itself says ('give or take one'); what is expected stays exact, and "
         "tests/test_04_periodic_tasks.py checks each count within one of it and the gaps "
         "between the recorded runs"),
        ("09_scale_out", r"(?<=resident memory after the run )\d+ MiB \(beam\.smp\) against \d+ MiB",
         "<n> MiB (beam.smp) against <n> MiB",
         "rabbitmq_vs_redis.py measures the resident size of beam.smp and redis-server after the "
         "run: a few MiB more or less from one run to the next (124-128 MiB for RabbitMQ); "
         "tests/test_09_rabbitmq.py checks both, and make bench records them"),
        ("06_cache_consistency", r"^(\d+ ){9,}\d+$", "<DB queries per 0.25 s>",
         "avalanche.py's histogram: which 0.25 s bin a query falls in depends on where the "
         "expiry lands against the bin edges (1 + 99 instead of 100), and with jitter on "
         "random TTLs"),
        ("06_cache_consistency", r"peak: \d+ DB queries in <n> s \(<n>/s\), \d+ at once",
         "peak: <n> DB queries in <n> s (<n>/s), <n> at once",
         "avalanche.py's peaks are measured over a sliding 0.25 s window of real query times, "
         "and with jitter come from random TTLs; the total stays exact, and "
         "tests/test_06_cache_consistency.py checks the peaks (one TTL >= 60, jitter at most "
         "half of that)"),
    ]]


Sample = walkthrough.Sample  # the one README parser: tour/walkthrough.py
samples = walkthrough.readme_samples


def mask(line: str, chapter: str = "") -> str:
    """The line with every run-dependent value replaced, spaces collapsed, ends stripped."""
    for pattern, replacement in MASKS:
        line = pattern.sub(replacement, line)
    line = " ".join(line.split())
    for name, pattern, replacement, _why in CHAPTER_MASKS:
        if name == chapter:
            line = pattern.sub(replacement, line)
    return line


def line_matches(readme: str, real: str, chapter: str = "") -> bool:
    """A README line against a real line, both masked; `...` inside the README line is any text."""
    pattern = ".*".join(re.escape(part) for part in mask(readme, chapter).split(ELLIPSIS))
    return re.fullmatch(pattern, mask(real, chapter)) is not None


def is_gap(line: str) -> bool:
    return line.strip() == ELLIPSIS


def difference(shown: list[tuple[int, str]], real: list[str], chapter: str = "") -> str:
    """'' when the README's lines match the real output; otherwise where they first part.

    shown: (README line number, text) of the sample output; real: the lines really printed."""
    real = list(real)
    while real and not real[-1].strip():
        real.pop()
    # Runs of README lines between `...` lines; each run matches consecutive real lines.
    segments: list[tuple[bool, list[tuple[int, str]]]] = []  # (after a `...`, lines)
    gap = False
    for entry in shown:
        if is_gap(entry[1]):
            gap = True
        elif gap or not segments:
            segments.append((gap, [entry]))
            gap = False
        else:
            segments[-1][1].append(entry)
    trailing_gap = gap
    position = 0
    for index, (floating, lines) in enumerate(segments):
        final = index == len(segments) - 1 and not trailing_gap
        if final and floating:   # the last run, after a `...`: the last real lines
            tail = len(real) - len(lines)
            starts = [tail] if tail >= position else []
        elif floating:           # between two `...`: the first place it fits
            starts = range(position, len(real) - len(lines) + 1)
        else:                    # before any `...`: from the first real line
            starts = [position]
        best = (0, starts[0] if starts else position)  # the closest attempt, for the message
        for start in starts:
            matched = 0
            while (matched < len(lines) and start + matched < len(real)
                   and line_matches(lines[matched][1], real[start + matched], chapter)):
                matched += 1
            if matched == len(lines):
                position = start + matched
                break
            if matched > best[0]:
                best = (matched, start)
        else:
            matched, start = best
            number, text = lines[matched]
            at = start + matched
            got = real[at] if at < len(real) else None
            where = (f"(after a `...`, so anywhere from real line {position + 1} on; closest "
                     f"attempt shown)\n" if floating and len(starts) > 1 else "")
            return (f"{where}README line {number}: {text.strip()!r}\n"
                    f"  real line {at + 1}: {'(the output has ended)' if got is None else repr(got.strip())}\n"
                    f"  masked, README: {mask(text, chapter)!r}\n"
                    f"  masked, real:   {'' if got is None else mask(got, chapter)!r}")
        if final and position < len(real):
            return (f"README line {lines[-1][0]} is the block's last and matches real line "
                    f"{position}, but the real output goes on (end the block with `...` if "
                    f"that is meant):\n  real line {position + 1}: {real[position].strip()!r}")
    return ""


def readme_text(chapter) -> str:
    """The chapter's README.md, from the real folder (the run may use a scratch copy)."""
    real = ROOT / chapter.name / "README.md"
    return (real if real.exists() else chapter.path / "README.md").read_text(encoding="utf-8")


def readme_shows_code(chapter, snippet: str) -> bool:
    """README.md has a ```python block with exactly the snippet's lines (blank lines and
    indentation aside): what the README tells a learner to type is what the test runs."""
    wanted = [line.strip() for line in snippet.splitlines() if line.strip()]
    blocks = re.findall(r"^```python\n(.*?)^```", readme_text(chapter), re.MULTILINE | re.DOTALL)
    return any([line.strip() for line in block.splitlines() if line.strip()] == wanted for block in blocks)


def step_differences(text: str, chapter_name: str, runs: list[tuple[str, str]]) -> list[str]:
    """For each (command, real output) of the steps, in order: what differs from the README."""
    shown = samples(text)
    problems, position = [], 0
    for command, output in runs:
        later = [i for i in range(position, len(shown)) if shown[i].command == command]
        if not later:
            problems.append(f"`{command}`: README.md shows no `$ {command}` (after the previous step's)")
            continue
        sample = shown[later[0]]
        position = later[0] + 1
        if not sample.output:
            problems.append(f"`{command}` (README line {sample.line}): the README shows no output; "
                            "show what it prints, or `...`")
            continue
        problem = difference(sample.output, output.splitlines(), chapter_name)
        if problem:
            problems.append(f"`{command}` (README line {sample.line}) differs from the real run:\n"
                            f"{problem}\n   the real output:\n"
                            + "\n".join(f"   {n:>3} | {line}" for n, line in
                                        enumerate(output.splitlines(), start=1)))
    return problems


def assert_readme_shows(chapter, steps, outputs, as_if: dict[str, str] | None = None) -> None:
    """Fail, naming each step, when README.md's sample output differs from the real run.

    steps: the walkthrough steps that ran; outputs: their real outputs (str), in order.
    as_if: {regular expression: replacement} applied to the real output first, for a setting
    the test changed on purpose from the README's (a shorter refresh period, say): the
    output is compared as it would read with the README's value. Use it for that only."""
    rewrite = [(re.compile(pattern), replacement) for pattern, replacement in (as_if or {}).items()]

    def as_printed(output: str) -> str:
        for pattern, replacement in rewrite:
            output = pattern.sub(replacement, output)
        return output

    runs = [(step.run, as_printed(output)) for step, output in zip(steps, outputs, strict=True)]
    problems = step_differences(readme_text(chapter), chapter.name, runs)
    assert not problems, (f"{chapter.name}/README.md's sample output differs from what the "
                          "walkthrough printed:\n\n" + "\n\n".join(problems))
