"""Chapter 05's banner API with and without its Redis cache, under the same concurrent load.

    python -m bench.cache              2,000 requests per configuration, 20 clients at once
    python -m bench.cache --quick      500 requests per configuration
    python -m bench.cache --requests 5000 --clients 50

The real site, run the way the walkthrough runs it: the Procfile's
`python manage.py runserver --noreload` (Django's development server: ONE process, a thread
per connection), a temporary SQLite file filled by `manage.py migrate` and `load_banners`,
and the chapter's views and middleware unchanged. The two configurations differ only in
Django's CACHES setting, chosen with Django's own `--settings` option (a two-line settings
module that imports the chapter's settings and replaces CACHES):
  - without the cache: Django's DummyCache. The view's cache-aside code still runs, but
    every get() misses and set() stores nothing, so each request reads the database, and
    no request talks to Redis;
  - with the cache: the chapter's django-redis cache, in bench's own cache database
    (bench.tasks.DATABASES["cache"]) instead of the chapter's, on bench's private Redis:
    the same code. The cache starts empty: the first requests miss, the rest hit.
Each configuration gets a fresh server, a short warm-up, then N GET /api/banners/ from C
client threads over keep-alive connections to 127.0.0.1 (see QUICKACK below). Each
answer's X-DB-Queries and X-Cache headers (home/middleware.py, home/views.py) say what the
server did for it.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import re
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import redis as redis_py
from rich.table import Table

from bench import harness
from bench.harness import console, median, percentile, say
from bench.tasks import DATABASES
from tour import procs, runner, walkthrough
from tour.redis_server import free_port

CHAPTER_DIR = harness.ROOT / "05_django_integration"
API = "/api/banners/"
FULL = {"requests": 2000, "clients": 20}
QUICK = {"requests": 500, "clients": 20}
WARMUP = 30  # sequential requests on a fresh server before measuring (imports, connections)
CACHE_DB = DATABASES["cache"]  # emptied by the harness at the end of every run

# (key, label, settings module text): the two configurations, in the order they run.
SETTINGS_HEAD = ('"""Written by bench/cache.py for one run: chapter 05\'s settings, one '
                 'change."""\nfrom luffy_api.settings import *  # noqa: F401,F403\n\n')
CONFIGS = [
    ("off", "without the cache",
     SETTINGS_HEAD + "# Django's dummy cache: get() always misses, set() stores nothing. The "
     "view's\n# cache-aside code still runs, so every request reads the database.\n"
     'CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}\n'),
    ("redis", "with the cache",
     SETTINGS_HEAD + f"# The chapter's django-redis cache, in the benchmark's database {CACHE_DB}.\n"
     f'CACHES = {{"default": {{**CACHES["default"], "LOCATION": f"{{REDIS_URL}}/{CACHE_DB}"}}}}\n'),
]


def versions() -> dict[str, str]:
    import django
    import django_redis
    import rest_framework

    return {"django": django.__version__, "drf": rest_framework.__version__,
            "django_redis": ".".join(map(str, django_redis.VERSION))}


# --- the site ---------------------------------------------------------------------------

class Site:
    """Chapter 05 in a scratch copy (tour/runner.py), with its SQLite file and the two
    settings modules in a temporary folder."""

    def __init__(self, redis_url: str, folder: Path):
        self.redis_url, self.folder = redis_url, folder
        self.db = folder / "db.sqlite3"
        for key, _, text in CONFIGS:
            (folder / f"bench_cache_{key}.py").write_text(text)
        self.run = runner.ChapterRun(walkthrough.load(CHAPTER_DIR), redis_url)
        self.path = self.run.path
        self.web = self.run.chapter.command("web")  # the Procfile's command

    def options(self, key: str) -> str:
        # Django's own options of every manage.py command: which settings, found where
        return f"--settings=bench_cache_{key} --pythonpath={self.folder}"

    def env(self, port: int) -> dict[str, str]:
        return procs.chapter_env(self.redis_url, {
            "DJANGO_DB_PATH": str(self.db), "SITE_URL": f"http://127.0.0.1:{port}",
            "PYTHONDONTWRITEBYTECODE": "1"})

    def prepare(self) -> None:
        """migrate and load_banners, the walkthrough's first two steps, into the temp file."""
        for command in ("python manage.py migrate", "python manage.py load_banners"):
            command = f"{command} {self.options('redis')}"
            say(f"  $ {command}", "cyan")
            done = procs.run_step(command, self.path, self.env(free_port()), timeout=120)
            if done.returncode != 0:
                raise RuntimeError(f"`{command}` exited {done.returncode}:\n{done.output[-3000:]}")
            if "load_banners" in command:
                say(f"    {next(line for line in done.output.splitlines() if 'created' in line)}",
                    "dim")

    def start(self, key: str) -> tuple[procs.Proc, int, float]:
        port = free_port()
        command = runner.listening_at(f"{self.web} {self.options(key)}", port)
        say(f"  $ {command}", "cyan")
        proc = procs.Proc(f"web {key}", command, self.path, self.env(port))
        started = time.monotonic()
        proc.start()
        try:
            proc.wait_for(r"Starting development server at", timeout=60)
        except BaseException:
            proc.stop()
            raise
        return proc, port, time.monotonic() - started


# runserver (Python's wsgiref) sends a response's headers and its body in two send() calls.
# On a kept-alive connection the second waits for the client's ACK of the first (Nagle's
# algorithm), and the client delays that ACK by up to 40 ms (delayed ACKs): every request
# would take ~40 ms whatever the server did. So the client asks for immediate ACKs
# (TCP_QUICKACK, Linux). Where that option does not exist, each request opens a new
# connection instead, as urllib (and `manage.py try_banner_api`) do.
QUICKACK = getattr(socket, "TCP_QUICKACK", None)
KEEP_ALIVE = QUICKACK is not None
CONNECTIONS = ("keep-alive, immediate ACKs" if KEEP_ALIVE
               else "a new connection per request (no TCP_QUICKACK on this system)")
CONNECTIONS_WHY = ("keep-alive connections; the client acknowledges at once (`TCP_QUICKACK`), "
                   "otherwise each answer, which runserver sends in two writes, would wait "
                   "~40 ms for a delayed ACK" if KEEP_ALIVE else CONNECTIONS)


def get(conn: http.client.HTTPConnection) -> tuple[int, dict, bytes]:
    headers = {"Accept": "application/json"}
    if not KEEP_ALIVE:
        headers["Connection"] = "close"  # the server closes it after answering; so do we
    conn.request("GET", API, headers=headers)
    if KEEP_ALIVE and conn.sock is not None:
        conn.sock.setsockopt(socket.IPPROTO_TCP, QUICKACK, 1)  # reset by the kernel: each time
    response = conn.getresponse()
    body = response.read()
    headers = {"X-DB-Queries": response.getheader("X-DB-Queries", ""),
               "X-Cache": response.getheader("X-Cache", ""), "will_close": response.will_close}
    return response.status, headers, body


def warm_up(port: int, count: int) -> bytes:
    """count requests one after another (the server may need a moment to bind its port);
    returns the body every measured answer must equal."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    deadline = time.monotonic() + 15
    body = b""
    try:
        for _ in range(count):
            while True:
                try:
                    status, _, body = get(conn)
                    break
                except ConnectionRefusedError:
                    conn.close()
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            if status != 200:
                raise RuntimeError(f"GET {API} -> {status} during the warm-up: {body[:300]!r}")
    finally:
        conn.close()
    return body


def load(port: int, requests: int, clients: int, expected: bytes) -> dict:
    """`requests` GETs shared by `clients` threads, each with its own connection."""
    tickets = itertools.count()  # next() is atomic: each request is taken by one thread
    gate = threading.Barrier(clients + 1)
    lock = threading.Lock()
    times: list[float] = []
    queries = hits = opened = 0
    errors: list[str] = []

    def client() -> None:
        nonlocal queries, hits, opened
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
        mine, my_queries, my_hits, my_opened, fresh = [], 0, 0, 1, True
        try:
            gate.wait(30)
            while next(tickets) < requests:
                if not fresh and conn.sock is None:  # the server closed it: a new one
                    my_opened += 1
                started = time.perf_counter()
                try:
                    status, headers, body = get(conn)
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()
                    with lock:
                        errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                finally:
                    fresh = False
                seconds = time.perf_counter() - started
                if status != 200 or body != expected:
                    with lock:
                        errors.append(f"status {status}, body {body[:120]!r}")
                    continue
                mine.append(seconds)
                my_queries += int(headers["X-DB-Queries"] or 0)
                my_hits += headers["X-Cache"] == "HIT"
        finally:
            conn.close()
            with lock:
                times.extend(mine)
                queries += my_queries
                hits += my_hits
                opened += my_opened

    threads = [threading.Thread(target=client, name=f"client {i}", daemon=True)
               for i in range(clients)]
    for thread in threads:
        thread.start()
    gate.wait(30)
    started = time.perf_counter()
    for thread in threads:
        thread.join(requests * 15 / clients + 30)
    seconds = time.perf_counter() - started
    return {"times": times, "seconds": seconds, "queries": queries, "hits": hits,
            "connections": opened, "errors": errors}


def failed_row(key: str, label: str, sizes: dict, problem: str) -> dict:
    return {"key": key, "configuration": label, "requests": sizes["requests"],
            "clients": sizes["clients"], "ok": 0, "errors": sizes["requests"], "seconds": None,
            "per_second": None, "median_ms": None, "p95_ms": None, "queries": 0,
            "queries_per_request": None, "hits": 0, "misses": 0, "hit_ratio": None,
            "connections": 0, "server_ready_s": None, "first_errors": [problem]}


def measure(site: Site, key: str, label: str, sizes: dict) -> dict:
    say(f"\n[cache] {label}", "bold")
    try:
        proc, port, ready_after = site.start(key)
    except (TimeoutError, OSError) as exc:  # the server did not start: say why, go on
        say(f"    {exc}", "red")
        return failed_row(key, label, sizes, f"the server did not start: {str(exc)[:200]}")
    try:
        say(f"    ready: 'Starting development server' {ready_after:.1f} s after starting; "
            f"{WARMUP} warm-up requests", "dim")
        try:
            expected = warm_up(port, WARMUP)
        except (RuntimeError, OSError, http.client.HTTPException) as exc:
            say(f"    the warm-up failed: {exc}\n{proc.output()[-2000:]}", "red")
            return failed_row(key, label, sizes, f"the warm-up failed: {str(exc)[:200]}")
        if key == "redis":  # measure from an empty cache: the first requests fill it
            client = redis_py.Redis.from_url(harness.db_url(site.redis_url, "cache"), socket_timeout=5)
            try:
                client.flushdb()
            finally:
                client.close()
        got = load(port, sizes["requests"], sizes["clients"], expected)
    finally:
        proc.stop()
    ok = len(got["times"])
    row = {
        "key": key, "configuration": label, "requests": sizes["requests"],
        "clients": sizes["clients"], "ok": ok, "errors": len(got["errors"]),
        "seconds": got["seconds"], "per_second": ok / got["seconds"] if ok else None,
        "median_ms": median(got["times"]) * 1000 if ok else None,
        "p95_ms": percentile(got["times"], 95) * 1000 if ok else None,
        "queries": got["queries"], "queries_per_request": got["queries"] / ok if ok else None,
        "hits": got["hits"], "misses": ok - got["hits"], "hit_ratio": got["hits"] / ok if ok else None,
        "connections": got["connections"], "server_ready_s": ready_after,
        "first_errors": got["errors"][:5],
    }
    if ok:
        say(f"    {ok:,} answers in {row['seconds']:.2f} s from {row['clients']} clients on "
            f"{row['connections']} connections: {row['per_second']:,.0f} requests/s, median "
            f"{ms(row['median_ms'])}, p95 {ms(row['p95_ms'])}; {row['queries']:,} SQL queries "
            f"({row['queries_per_request']:.3f} per request), {row['hits']:,} cache hits")
    if got["errors"]:
        say(f"    {len(got['errors'])} requests failed, e.g. {got['errors'][0]}", "red")
        say(proc.output()[-2000:], "dim")
    say(f"    stopped the server (exit code {proc.popen.returncode})", "dim")
    return row


# --- output -----------------------------------------------------------------------------

def ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} ms"


def fmt(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def cells(r: dict) -> list[str]:
    return [r["configuration"], f"{r['ok']:,}" + (f" ({r['errors']} failed)" if r["errors"] else ""),
            str(r["clients"]), fmt(r["per_second"], ",.0f"), ms(r["median_ms"]), ms(r["p95_ms"]),
            fmt(r["queries_per_request"], ".3f"), fmt(r["hit_ratio"], ".1%")]


HEADERS = ["configuration", "requests", "concurrency", "requests/s", "median", "p95",
           "DB queries per request", "cache hits"]


def print_table(rows: list[dict]) -> None:
    table = Table(title=f"GET {API} on Django's development server (runserver: one process, "
                        "a thread per connection)")
    for i, name in enumerate(HEADERS):
        table.add_column(name, justify="left" if i == 0 else "right")
    for r in rows:
        table.add_row(*cells(r))
    console.print(table)


def markdown(rows: list[dict]) -> str:
    return harness.markdown_table(HEADERS, [cells(r) for r in rows], right=set(range(1, 8)))


def lessons(rows: list[dict]) -> list[str]:
    by = {r["key"]: r for r in rows}
    off, on = by.get("off"), by.get("redis")
    out = []
    if off and on and off["ok"] and on["ok"]:
        if on["misses"] > 1:
            herd = (f"{on['misses']} misses: {on['clients']} clients arrived at once, so several "
                    "found it empty before the first one had stored the list")
        else:
            herd = f"{on['misses']} miss{'es' if on['misses'] != 1 else ''}, at the start"
        out.append(
            f"Database queries per request: {off['queries_per_request']:.2f} without the cache, "
            f"{on['queries_per_request']:.3f} with it ({on['queries']} queries for "
            f"{on['ok']:,} requests). With the cache only the first requests read the database "
            f"({herd}); the others were answered from Redis ({on['hit_ratio']:.1%} hits). "
            "Without it, database load grows with every request; with it, it stays flat "
            "however busy the site is.")
        ratio = on["per_second"] / off["per_second"]
        speed = (f"Speed: {on['per_second']:,.0f} requests/s with the cache, "
                 f"{off['per_second']:,.0f} without ({ratio:.1f}x); p95 {ms(on['p95_ms'])} "
                 f"vs {ms(off['p95_ms'])}. ")
        if ratio > 1.1:
            speed += ("A hit skips the SQL query and the serializer too (the cache holds the "
                      "finished list, image URLs included): one Redis GET and a JSON decode "
                      "instead. The server is one process with one GIL, so the CPU time a hit "
                      "saves turns straight into throughput.")
        else:
            speed += ("Here the times stay close: reading four rows from a local SQLite file "
                      "is quick, and most of each request is Django's own work. The query "
                      "count is the lesson: a networked database that many web processes "
                      "share is where it pays.")
        out.append(speed)
    out.append("These numbers are for Django's development server (`runserver`, as in the "
               "walkthrough: one process, a thread per connection, DEBUG on), with the load "
               "generator's threads, Redis and the server sharing the same cores. A production "
               "server (several gunicorn workers) changes the requests per second, not the "
               "queries per request.")
    failed = [f"{r['configuration']}: {r['errors']} failed ({r['first_errors'][0]})"
              for r in rows if r["errors"]]
    if failed:
        out.append("Problems: " + "; ".join(failed) + ".")
    return out


def chart(rows: list[dict], path: Path) -> None:
    colors = {"off": "#DD8452", "redis": "#4C72B0"}

    def draw(plt):
        fig, (rate, lat, db) = plt.subplots(1, 3, figsize=(12, 4.2))
        labels = [r["configuration"] for r in rows]
        color = [colors.get(r["key"], "#999") for r in rows]
        values = [r["per_second"] or 0 for r in rows]
        bars = rate.bar(labels, values, color=color)
        rate.bar_label(bars, [f"{v:,.0f}/s" for v in values], fontsize=8)
        rate.set_ylabel("requests per second, higher is better")
        rate.set_title("Throughput", fontsize=10)
        rate.set_ylim(0, max(values + [1]) * 1.2)

        x = range(len(rows))
        width = 0.38
        med = [r["median_ms"] or 0 for r in rows]
        p95 = [r["p95_ms"] or 0 for r in rows]
        b1 = lat.bar([i - width / 2 for i in x], med, width, color=color, alpha=0.55,
                     label="median")
        b2 = lat.bar([i + width / 2 for i in x], p95, width, color=color, label="p95")
        lat.bar_label(b1, [f"{v:.1f}" for v in med], fontsize=8)
        lat.bar_label(b2, [f"{v:.1f}" for v in p95], fontsize=8)
        lat.set_xticks(list(x), labels)
        lat.set_ylabel("ms per request, lower is better")
        lat.set_title("Latency: median (light) and p95 (dark)", fontsize=10)
        lat.set_ylim(0, max(p95 + [1]) * 1.2)

        qpr = [r["queries_per_request"] or 0 for r in rows]
        bars = db.bar(labels, qpr, color=color)
        db.bar_label(bars, [f"{v:.3f}\n({r['hit_ratio'] or 0:.1%} hits)" for v, r in zip(qpr, rows)],
                     fontsize=8)
        db.set_ylabel("SQL queries per request (X-DB-Queries)")
        db.set_title("Database work per request", fontsize=10)
        db.set_ylim(0, max(qpr + [1]) * 1.3)
        fig.suptitle(f"Chapter 05's GET {API}: {rows[0]['requests']:,} requests, "
                     f"{rows[0]['clients']} clients at once, Django's development server",
                     fontsize=11)
        fig.tight_layout()
        return fig

    harness.save_chart(draw, path)


def cache_db_of(data: dict) -> int:
    """The database the measured cache used (recorded; older files have it in the settings)."""
    if "cache_db" in data:
        return data["cache_db"]
    return int(re.search(r'}/(\d+)"', data["settings"]["redis"]).group(1))


def section(data: dict, png_link: str) -> str:
    """bench/RESULTS.md's section for this benchmark, from cache.json alone."""
    rows, sizes, machine = data["rows"], data["sizes"], data["machine"]
    kind = " (a `--quick` run: reduced sizes)" if data["quick"] else ""
    why = CONNECTIONS_WHY if data["connections"] == CONNECTIONS else data["connections"]
    return "\n".join([
        "## The banner API with and without its cache",
        "",
        f"Last run{kind}: {harness.machine_line(machine)} · Django {machine['django']}, DRF "
        f"{machine['drf']}, django-redis {machine['django_redis']}.",
        "",
        f"[`bench/cache.py`](cache.py) runs chapter 05's site as the walkthrough does "
        f"(`python manage.py runserver --noreload`: Django's development server, one process, "
        f"a thread per connection; SQLite with the sample banners), fresh for each "
        f"configuration, then sends {sizes['requests']:,} `GET {API}` from {sizes['clients']} "
        f"client threads at once to 127.0.0.1 ({why}), after {data['warmup']} warm-up "
        "requests. "
        "*Without the cache*: `--settings` pointing at the chapter's settings with Django's "
        "`DummyCache` (every get misses, nothing is stored, Redis is not used); *with the "
        f"cache*: the chapter's django-redis cache (in database {cache_db_of(data)}), empty at "
        "the start. Queries and hits are the `X-DB-Queries` and `X-Cache` headers of each answer.",
        "",
        markdown(rows),
        f"![Requests per second, latency and queries per request]({png_link})",
        "",
        *[f"- {sentence}" for sentence in lessons(rows)],
    ])


def history(data: dict) -> str:
    rows, machine = data["rows"], data["machine"]
    summary = "; ".join(
        f"{r['configuration']}: {fmt(r['per_second'], ',.0f')}/s, p95 {ms(r['p95_ms'])}, "
        f"{fmt(r['queries_per_request'], '.3f')} queries/request" for r in rows)
    return (f"| {machine['date']} | cache{' --quick' if data['quick'] else ''} | "
            f"{machine['cores']} | {machine['load']}→{machine['load_end']} | {summary} |")


def record(results_md: Path, data: dict, png: Path) -> None:
    harness.record(results_md, "cache", section(data, harness.relative_link(png, results_md)),
                   history(data))


def run(redis_url: str, sizes: dict, out: Path, results_md: Path | None, quick: bool = False,
        note: str = "") -> dict:
    """Measure both configurations, print the table, write PNG/Markdown/JSON, record."""
    machine = harness.machine(redis_url) | versions() | {"note": note}
    harness.flush_bench_dbs(redis_url)
    say(f"[cache] chapter 05's banner API on Django {machine['django']}'s development server "
        f"(one process, a thread per connection; the figures are for it, not for a production "
        f"server): {sizes['requests']:,} requests per configuration from {sizes['clients']} "
        f"client threads at once ({CONNECTIONS}), 127.0.0.1 only. {machine['cores']} cores, load "
        f"average {machine['load']}.", "bold")
    rows = []
    with tempfile.TemporaryDirectory(prefix="celery-bench-cache-") as folder:
        site = Site(redis_url, Path(folder))
        say("[cache] a temporary SQLite database with the sample banners "
            f"({site.db})", "bold")
        try:
            site.prepare()
            for key, label, _ in CONFIGS:
                rows.append(measure(site, key, label, sizes))
        except (RuntimeError, OSError) as exc:  # migrate or load_banners failed: say why
            say(f"    {exc}", "red")
            rows = [failed_row(key, label, sizes, f"the site was not ready: {str(exc)[:200]}")
                    for key, label, _ in CONFIGS]
        finally:
            site.run.close()
            harness.flush_bench_dbs(redis_url)
    machine["load_end"] = harness.load_now()

    console.print()
    print_table(rows)
    for sentence in lessons(rows):
        say(f"• {sentence}")

    out.mkdir(parents=True, exist_ok=True)
    png, table_md, data = out / "cache.png", out / "cache.md", out / "cache.json"
    chart(rows, png)
    table_md.write_text(markdown(rows))
    ok = all(r["ok"] == r["requests"] and not r["errors"] for r in rows)
    result = {"machine": machine, "sizes": sizes, "quick": quick, "warmup": WARMUP,
              "connections": CONNECTIONS, "cache_db": CACHE_DB,
              "server": "python manage.py runserver --noreload (Django development server)",
              "settings": {key: text for key, _, text in CONFIGS}, "ok": ok, "rows": rows}
    data.write_text(json.dumps(result, indent=2) + "\n")
    say(f"[cache] wrote {png}, {table_md.name} and {data.name}", "dim")
    if results_md:
        record(results_md, result, png)
        say(f"[cache] recorded the figures in {results_md}", "dim")
    return result


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.cache", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="fewer requests")
    p.add_argument("--requests", type=int,
                   help=f"requests per configuration (default {FULL['requests']})")
    p.add_argument("--clients", type=int,
                   help=f"client threads sending at once (default {FULL['clients']})")
    harness.add_output_arguments(p, "cache")
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
        return run(redis_url, sizes, args.out, results_md, args.quick, args.note)["ok"]

    return harness.run_session("cache", body)


if __name__ == "__main__":
    sys.exit(main())
