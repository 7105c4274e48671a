"""Worker pools, measured: the same jobs on prefork, threads, eventlet, gevent and solo.

    python -m bench.pools              200 tasks that wait 0.2 s, 40 tasks that compute ~50 ms
    python -m bench.pools --quick      smaller sizes, a few seconds per pool
    python -m bench.pools --pools prefork:4,threads:100 --tasks 500 --sleep 0.1

For each pool it starts a real worker (`celery -A bench.tasks worker -P POOL -c N`), waits
until it answers a ping, sends every task, waits for every result (with a timeout), and
stops the worker. The lesson, in numbers:
  - a task that WAITS (network, disk, sleep) leaves the CPU idle: 50 threads or 200 green
    threads wait at the same time, so they finish many times sooner than 2 processes;
  - a task that COMPUTES needs a core: threads share one GIL and green threads share one
    thread, so only prefork's separate processes use both cores.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from celery.exceptions import TimeoutError as CeleryTimeout
from rich.table import Table

from bench import harness
from bench.harness import console, say

# (pool, concurrency): the lesson's line-up. The first one is the baseline for speed-ups.
POOLS = [("prefork", 2), ("threads", 50), ("eventlet", 200), ("gevent", 200), ("solo", 1)]
DEFAULT_CONCURRENCY = dict(POOLS)
FULL = {"tasks": 200, "sleep": 0.2, "cpu_tasks": 40, "cpu_ms": 50.0}
QUICK = {"tasks": 60, "sleep": 0.1, "cpu_tasks": 20, "cpu_ms": 50.0}
JOBS = ("I/O", "CPU")


@dataclass
class Row:
    pool: str
    concurrency: int
    job: str
    tasks: int
    seconds: float | None  # None: the job did not finish (see problem)
    problem: str = ""

    @property
    def label(self) -> str:
        return f"{self.pool} -c {self.concurrency}"

    @property
    def rate(self) -> float | None:
        return self.tasks / self.seconds if self.seconds else None


def parse_pools(text: str) -> list[tuple[str, int]]:
    """"prefork:2,threads" -> [("prefork", 2), ("threads", 50)]."""
    pools = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, count = item.partition(":")
        if name not in DEFAULT_CONCURRENCY:
            raise argparse.ArgumentTypeError(f"unknown pool {name!r}; choose from "
                                             f"{', '.join(DEFAULT_CONCURRENCY)}")
        pools.append((name, int(count) if count else DEFAULT_CONCURRENCY[name]))
    if not pools:
        raise argparse.ArgumentTypeError("name at least one pool")
    return pools


def calibrate(tasks_mod, target_ms: float) -> int:
    """Loops of tasks.arithmetic that take about target_ms here (best of three tries)."""
    probe = 200_000
    best = min(_timed(tasks_mod.arithmetic, probe) for _ in range(3))
    return max(1_000, int(probe * target_ms / 1000 / best))


def _timed(func, *args) -> float:
    started = time.perf_counter()
    func(*args)
    return time.perf_counter() - started


def run_job(task, args: tuple, count: int, queue: str, timeout: float) -> float:
    """Send count tasks, wait for every result; the wall time from first send to last result."""
    started = time.perf_counter()
    deadline = started + timeout
    results = [task.apply_async(args, queue=queue) for _ in range(count)]
    values = harness.wait_all(results, max(0.1, deadline - time.perf_counter()))
    seconds = time.perf_counter() - started
    if len(values) != count:
        raise RuntimeError(f"expected {count} results, got {len(values)}")
    return seconds


def bench_pool(tasks_mod, redis_url: str, pool: str, concurrency: int, sizes: dict,
               loops: int, teardown: harness.Teardown) -> list[Row]:
    app = tasks_mod.app
    jobs = [
        ("I/O", tasks_mod.wait, (sizes["sleep"],), sizes["tasks"],
         f"{sizes['tasks']} tasks × sleep({sizes['sleep']} s)",
         sizes["tasks"] * sizes["sleep"] * 2 + 30),
        ("CPU", tasks_mod.crunch, (loops,), sizes["cpu_tasks"],
         f"{sizes['cpu_tasks']} tasks × {loops:,} loops of arithmetic",
         sizes["cpu_tasks"] * sizes["cpu_ms"] / 1000 * 6 + 30),
    ]
    say(f"\n[pools] {pool} -c {concurrency}", "bold")
    rows: list[Row] = []
    try:
        with harness.running_worker(app, redis_url, pool, concurrency, teardown) as worker:
            # warm up: the first task of a fresh worker pays for connections and imports
            harness.wait_all([tasks_mod.noop.apply_async(queue=worker.queue)], 30)
            for job, task, args, count, what, timeout in jobs:
                try:
                    seconds = run_job(task, args, count, worker.queue, timeout)
                except CeleryTimeout:
                    rows.append(Row(pool, concurrency, job, count, None,
                                    f"not finished after {timeout:.0f} s"))
                    say(f"    {job} job: {what} ... NOT finished after {timeout:.0f} s "
                        "(is the worker still running? see its output below)", "red")
                    say(worker.proc.output()[-2000:], "dim")
                    continue
                rows.append(Row(pool, concurrency, job, count, seconds))
                say(f"    {job} job: {what} ... {seconds:.2f} s ({count / seconds:.1f} tasks/s)")
            ran = harness.tasks_run(app, worker.node)
            expected = {"bench.tasks.wait": sizes["tasks"], "bench.tasks.crunch": sizes["cpu_tasks"]}
            for name, count in expected.items():
                if ran.get(name, 0) != count and all(r.seconds for r in rows):
                    say(f"    the worker counted {ran.get(name, 0)} {name}, expected {count}", "red")
                    for row in rows:
                        row.problem = row.problem or "task count mismatch"
    except (TimeoutError, RuntimeError) as exc:  # the worker did not start
        say(f"    {exc}", "red")
        done = {row.job for row in rows}
        rows += [Row(pool, concurrency, job, count, None, "worker did not start")
                 for job, _, _, count, _, _ in jobs if job not in done]
    finally:
        harness.flush_bench_dbs(redis_url)  # nothing left queued for the next pool
    return rows


def speedups(rows: list[Row]) -> dict[tuple[str, str], float | None]:
    """(label, job) -> baseline seconds / seconds; the baseline is the first pool's row."""
    out = {}
    for job in JOBS:
        job_rows = [r for r in rows if r.job == job]
        if not job_rows:
            continue
        base = job_rows[0].seconds
        for r in job_rows:
            out[(r.label, job)] = base / r.seconds if base and r.seconds else None
    return out


def fmt(value: float | None, spec: str, missing: str = "—") -> str:
    return format(value, spec) if value is not None else missing


def lessons(rows: list[Row], baseline: str) -> list[str]:
    """The sentences a learner should take away, written from the measured numbers."""
    ups = speedups(rows)
    out = []
    io_fast = [(ups[(r.label, "I/O")], r.label) for r in rows
               if r.job == "I/O" and r.pool in ("threads", "eventlet", "gevent")
               and ups.get((r.label, "I/O"))]
    if io_fast:
        names = ", ".join(f"{label} {up:.0f}x" for up, label in io_fast)
        out.append(f"Waiting tasks: compared with {baseline}, {names} faster. A task that "
                   "waits leaves the CPU idle, so many threads (or green threads in one "
                   "process) wait at the same time; 2 processes wait 2 at a time.")
    cpu = [(ups[(r.label, "CPU")], r.label) for r in rows
           if r.job == "CPU" and r.label != baseline and ups.get((r.label, "CPU"))]
    if cpu:
        names = ", ".join(f"{label} {up:.2f}x" for up, label in cpu)
        out.append(f"Computing tasks: speed compared with {baseline}: {names} (below 1x: "
                   "slower). Threads share one "
                   "GIL and green threads share one thread, so they compute one task at a "
                   "time on one core; only prefork's processes use several cores. More "
                   "concurrency does not help work that never waits.")
    failed = [f"{r.label} ({r.job}): {r.problem}" for r in rows if r.problem]
    if failed:
        out.append("Problems: " + "; ".join(failed) + ".")
    return out


def print_table(rows: list[Row], baseline: str) -> None:
    ups = speedups(rows)
    table = Table(title="Worker pools: wall time from the first task sent to the last result")
    for name, justify in [("pool", "left"), ("job", "left"), ("tasks", "right"),
                          ("wall time", "right"), ("tasks/s", "right"),
                          (f"speed-up vs {baseline}", "right")]:
        table.add_column(name, justify=justify)
    for r in rows:
        table.add_row(r.label, r.job, str(r.tasks),
                      f"{r.seconds:.2f} s" if r.seconds else f"[red]{r.problem}[/red]",
                      fmt(r.rate, ".1f"), fmt(ups.get((r.label, r.job)), ".1f", "—") + "x")
    console.print(table)


def markdown(rows: list[Row], baseline: str) -> str:
    ups = speedups(rows)
    body = [[r.label, r.job, str(r.tasks), f"{r.seconds:.2f} s" if r.seconds else r.problem,
             fmt(r.rate, ".1f"), fmt(ups.get((r.label, r.job)), ".1f") + "x"] for r in rows]
    return harness.markdown_table(["pool", "job", "tasks", "wall time", "tasks/s",
                                   f"speed-up vs {baseline}"], body, right={2, 3, 4, 5})


def chart(rows: list[Row], sizes: dict, loops: int, path: Path) -> None:
    ups = speedups(rows)
    colors = {"prefork": "#4C72B0", "solo": "#8C8C8C", "threads": "#DD8452",
              "eventlet": "#55A868", "gevent": "#64B5CD"}

    def draw(plt):
        fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
        titles = {"I/O": f"I/O-bound: {sizes['tasks']} tasks × sleep({sizes['sleep']} s)",
                  "CPU": f"CPU-bound: {sizes['cpu_tasks']} tasks × ~{sizes['cpu_ms']:.0f} ms "
                         "of arithmetic"}
        for ax, job in zip(axes, JOBS):
            job_rows = [r for r in rows if r.job == job]
            labels = [r.label for r in job_rows]
            values = [r.seconds or 0 for r in job_rows]
            bars = ax.bar(labels, values, color=[colors.get(r.pool, "#999") for r in job_rows])
            for bar, r in zip(bars, job_rows):
                up = ups.get((r.label, job))
                text = f"{r.seconds:.1f} s\n{up:.1f}x" if r.seconds and up else "failed"
                ax.annotate(text, (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                            ha="center", va="bottom", fontsize=8, xytext=(0, 2),
                            textcoords="offset points")
            ax.set_title(titles[job], fontsize=10)
            ax.set_ylabel("wall time (s), lower is better")
            ax.set_ylim(0, max(values + [0.1]) * 1.25)
            ax.tick_params(axis="x", labelrotation=20, labelsize=8)
        fig.suptitle("Celery worker pools: the same job, different pools "
                     "(speed-up vs the first pool)", fontsize=11)
        fig.tight_layout()
        return fig

    harness.save_chart(draw, path)


def run(redis_url: str, sizes: dict, pools: list[tuple[str, int]], out: Path,
        results_md: Path | None, quick: bool = False, note: str = "") -> dict:
    """Measure every pool, print the table, write the PNG/Markdown/JSON, record RESULTS.md."""
    tasks_mod = harness.celery_app(redis_url)
    machine = harness.machine(redis_url) | {"note": note}
    harness.flush_bench_dbs(redis_url)
    loops = calibrate(tasks_mod, sizes["cpu_ms"])
    say(f"[pools] I/O job: {sizes['tasks']} tasks that each sleep {sizes['sleep']} s; CPU job: "
        f"{sizes['cpu_tasks']} tasks of {loops:,} arithmetic loops (≈{sizes['cpu_ms']:.0f} ms "
        f"each, calibrated on this machine). {machine['cores']} cores, load average "
        f"{machine['load']}.", "bold")
    rows: list[Row] = []
    # Leaving the block waits until every worker is gone (the last one winds down while
    # the chart is drawn), also on Ctrl-C.
    with harness.Teardown() as teardown:
        for pool, concurrency in pools:
            rows += bench_pool(tasks_mod, redis_url, pool, concurrency, sizes, loops, teardown)
        machine["load_end"] = harness.load_now()
        baseline = f"{pools[0][0]} -c {pools[0][1]}"

        console.print()
        print_table(rows, baseline)
        for sentence in lessons(rows, baseline):
            say(f"• {sentence}")

        out.mkdir(parents=True, exist_ok=True)
        png, table_md, data = out / "pools.png", out / "pools.md", out / "pools.json"
        chart(rows, sizes, loops, png)
        table_md.write_text(markdown(rows, baseline))
        result = {"machine": machine, "sizes": sizes, "cpu_loops": loops, "quick": quick,
                  "baseline": baseline, "rows": [asdict(r) | {"speedup": speedups(rows).get(
                      (r.label, r.job))} for r in rows]}
        data.write_text(json.dumps(result, indent=2) + "\n")
        say(f"[pools] wrote {png}, {table_md.name} and {data.name}", "dim")

        if results_md:
            record(results_md, result, png)
            say(f"[pools] recorded the figures in {results_md}", "dim")
        return result


def rows_of(data: dict) -> list[Row]:
    """The rows of a pools.json, as measured."""
    fields = Row.__dataclass_fields__
    return [Row(**{k: v for k, v in r.items() if k in fields}) for r in data["rows"]]


def section(data: dict, png_link: str) -> str:
    """bench/RESULTS.md's section for this benchmark, from pools.json alone."""
    rows, baseline, sizes, loops = rows_of(data), data["baseline"], data["sizes"], data["cpu_loops"]
    kind = " (a `--quick` run: reduced sizes)" if data["quick"] else ""
    return "\n".join([
        "## Worker pools: tasks that wait vs tasks that compute",
        "",
        f"Last run{kind}: {harness.machine_line(data['machine'])}.",
        "",
        f"I/O job: {sizes['tasks']} tasks that each `time.sleep({sizes['sleep']})`. CPU job: "
        f"{sizes['cpu_tasks']} tasks of {loops:,} loops of pure-Python arithmetic "
        f"(≈{sizes['cpu_ms']:.0f} ms each). Wall time runs from the first task sent to the "
        "last result received, on a real worker started for each pool "
        "(`celery -A bench.tasks worker -P POOL -c N`).",
        "",
        markdown(rows, baseline),
        f"![Wall time per pool]({png_link})",
        "",
        *[f"- {sentence}" for sentence in lessons(rows, baseline)],
    ])


def history(data: dict) -> str:
    rows, baseline, machine = rows_of(data), data["baseline"], data["machine"]
    ups = speedups(rows)
    summary = "; ".join(
        f"{job}: " + ", ".join(f"{r.label} {fmt(r.seconds, '.2f', 'failed')} s"
                               + (f" ({ups[(r.label, job)]:.1f}x)" if ups.get((r.label, job))
                                  and r.label != baseline else "")
                               for r in rows if r.job == job)
        for job in JOBS)
    return (f"| {machine['date']} | pools{' --quick' if data['quick'] else ''} | "
            f"{machine['cores']} | {machine['load']}→{machine['load_end']} | {summary} |")


def record(results_md: Path, data: dict, png: Path) -> None:
    harness.record(results_md, "pools", section(data, harness.relative_link(png, results_md)),
                   history(data))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.pools", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="smaller sizes (a few seconds per pool)")
    p.add_argument("--tasks", type=int, help=f"I/O-bound tasks (default {FULL['tasks']})")
    p.add_argument("--sleep", type=float, help=f"seconds each I/O task waits (default {FULL['sleep']})")
    p.add_argument("--cpu-tasks", type=int, help=f"CPU-bound tasks (default {FULL['cpu_tasks']})")
    p.add_argument("--cpu-ms", type=float, help=f"milliseconds per CPU task (default {FULL['cpu_ms']:.0f})")
    p.add_argument("--pools", type=parse_pools, default=POOLS,
                   help="comma-separated pool[:concurrency], the first is the baseline "
                        "(default prefork:2,threads:50,eventlet:200,gevent:200,solo:1)")
    harness.add_output_arguments(p, "pools")
    return p


def sizes_from(args: argparse.Namespace) -> dict:
    sizes = harness.sizes_from(args, QUICK if args.quick else FULL)
    if min(sizes["tasks"], sizes["cpu_tasks"]) < 1 or sizes["sleep"] < 0 or sizes["cpu_ms"] <= 0:
        raise SystemExit("sizes must be positive")
    return sizes


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    sizes = sizes_from(args)
    results_md = None if args.no_record else args.results_md

    def body(redis_url: str) -> bool:
        result = run(redis_url, sizes, args.pools, args.out, results_md, args.quick, args.note)
        return all(row["seconds"] for row in result["rows"])

    return harness.run_session("pools", body)


if __name__ == "__main__":
    sys.exit(main())
