"""bench/: each benchmark runs with tiny sizes and writes sane figures.

No speed targets here (a loaded machine would fail them): those are what the benchmarks
measure. Only what must hold anywhere: every row is there, counts are right, times are
positive and no shorter than the sleeping alone takes, nothing is left running, the files
go to the folder given (a temporary one here, never bench/results), and the Redis named by
REDIS_URL is left alone (bench starts its own).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
import redis as redis_py

from bench import cache, drills, harness, latency, pools, tasks
from tour import walkthrough

ROOT = Path(__file__).resolve().parent.parent
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
POOLS = [("prefork", 2), ("threads", 50), ("eventlet", 200), ("gevent", 200), ("solo", 1)]


def bench_pids() -> set[int]:
    return {p.pid for p in psutil.process_iter(["cmdline"])
            if "bench.tasks" in " ".join(p.info["cmdline"] or [])}


def run_bench(module: str, args: list[str], redis_url: str, out: Path) -> str:
    before = bench_pids()
    # bench/ is left out of coverage (pyproject.toml), so its processes and their workers
    # run without the coverage tracer: the same behaviour, seconds sooner.
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_PROCESS_")}
    done = subprocess.run(
        [sys.executable, "-m", module, *args, "--out", str(out), "--results-md", str(out / "RESULTS.md")],
        cwd=ROOT, capture_output=True, text=True, timeout=90,
        env={**env, "REDIS_URL": redis_url, "PYTHONDONTWRITEBYTECODE": "1"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert not bench_pids() - before, "a benchmark worker is still running"
    return done.stdout


def test_pools_tiny(redis_url, tmp_path):
    out = run_bench("bench.pools", ["--tasks", "10", "--sleep", "0.05", "--cpu-tasks", "4",
                                    "--cpu-ms", "10"], redis_url, tmp_path)
    assert "speed-up vs prefork -c 2" in out
    data = json.loads((tmp_path / "pools.json").read_text())
    rows = data["rows"]
    assert [(r["pool"], r["concurrency"], r["job"]) for r in rows] == [
        (pool, c, job) for pool, c in POOLS for job in ("I/O", "CPU")]
    for r in rows:
        assert not r["problem"], r
        assert r["tasks"] == (10 if r["job"] == "I/O" else 4)
        assert r["seconds"] > 0 and r["speedup"] > 0, r
    by = {(r["pool"], r["job"]): r for r in rows}
    # each speed-up is the baseline's time over this pool's, from two different runs
    for (pool, job), r in by.items():
        assert r["speedup"] == pytest.approx(by[("prefork", job)]["seconds"] / r["seconds"]), r
    # what sleeping alone takes: a 0.05 s task, 5 rounds of 2 on prefork, 10 in a row on solo
    assert by[("threads", "I/O")]["seconds"] >= 0.05
    assert by[("prefork", "I/O")]["seconds"] >= 0.25
    assert by[("solo", "I/O")]["seconds"] >= 0.5
    assert data["cpu_loops"] > 0
    assert (tmp_path / "pools.png").read_bytes().startswith(PNG_MAGIC)
    table = (tmp_path / "pools.md").read_text()
    assert table.count("\n") == 2 + len(rows) and "| gevent -c 200 | CPU | 4 |" in table
    results = (tmp_path / "RESULTS.md").read_text()
    assert "<!-- figures:bench-pools -->" in results and "](pools.png)" in results
    assert results.count("| pools |") == 1  # one history line for one run
    # the section is what bench/figures.py renders from the JSON
    assert pools.section(data, "pools.png") in results


def test_latency_tiny(redis_url, tmp_path):
    """Also: the Redis that REDIS_URL names (the suite's, standing in for a learner's) keeps
    every key in every database; bench measured on a server of its own."""
    planted = {}
    for db in range(16):
        client = redis_py.Redis.from_url(f"{redis_url}/{db}")
        client.set("learner:key", db)
        planted[db] = client
    out = run_bench("bench.latency", ["--calls", "20", "--tasks", "20", "--redis-ops", "200",
                                      "--py-ops", "50"], redis_url, tmp_path)
    assert "no-op round trip" in out
    assert "bench ignores it and starts its own server" in out
    try:
        assert {db: c.get("learner:key") for db, c in planted.items()} == {
            db: str(db).encode() for db in planted}
    finally:
        for client in planted.values():
            client.delete("learner:key")
            client.close()
    data = json.loads((tmp_path / "latency.json").read_text())
    assert data["counts_ok"], (data["worker_counts"], data["expected_counts"])
    assert data["worker_counts"] == {"bench.tasks.noop": latency.WARMUP + 20 + 20 + 1,
                                     "bench.tasks.noop_ignored": 20}
    groups = [r["group"] for r in data["rows"]]
    assert groups.count("Celery") == 4 and groups.count("Redis from Python (redis-py)") == 2
    if data["redis_benchmark"] == "ok":
        assert groups.count("Redis via redis-benchmark (C)") == 3
    else:
        assert data["redis_benchmark"] in out
    for r in data["rows"]:
        assert r["per_second"] > 0, r
        if r["median_ms"] is not None:
            assert 0 < r["median_ms"] <= r["p95_ms"], r
    rt = data["round_trip_ms"]
    assert 0 < rt["min"] <= rt["median"] <= rt["p95"]
    assert (tmp_path / "latency.png").read_bytes().startswith(PNG_MAGIC)
    assert "| Celery | no-op round trip" in (tmp_path / "latency.md").read_text()
    assert "<!-- figures:bench-latency -->" in (tmp_path / "RESULTS.md").read_text()


def test_redis_benchmark_missing_is_said_not_fatal(monkeypatch):
    """Without the redis-benchmark binary the benchmark says so; the redis-py loop remains
    (on bench's own private server, with its databases beyond a default server's 16)."""
    monkeypatch.setattr(latency.shutil, "which", lambda name: None)
    with harness.redis_for_bench() as redis_url:
        rows, note = latency.redis_benchmark(redis_url, 100)
        assert rows == [] and note.startswith("redis-benchmark not available")
        rows = latency.redis_py_loop(redis_url, 20)
    assert [r["what"] for r in rows] == ["PING, one at a time", "SET, one at a time"]
    assert all(r["median_ms"] > 0 and r["per_second"] > 0 for r in rows)


def test_cache_tiny(redis_url, tmp_path):
    """Chapter 05's banner API on its real server: about 1 query per request without the
    cache, about 0 with it (only the first requests miss); no server is left running."""
    def servers() -> set[int]:
        return {p.pid for p in psutil.process_iter(["cmdline"])
                if "--settings=bench_cache_" in " ".join(p.info["cmdline"] or [])}

    before = servers()
    out = run_bench("bench.cache", ["--requests", "200", "--clients", "4"], redis_url, tmp_path)
    assert not servers() - before, "a benchmark web server is still running"
    assert "development server" in out
    data = json.loads((tmp_path / "cache.json").read_text())
    off, on = data["rows"]
    assert (off["configuration"], on["configuration"]) == ("without the cache", "with the cache")
    for r in (off, on):
        assert (r["ok"], r["errors"], r["clients"]) == (200, 0, 4), r
        assert r["per_second"] > 0 and 0 < r["median_ms"] <= r["p95_ms"], r
    assert off["queries_per_request"] >= 1 and off["hits"] == 0
    assert on["queries_per_request"] < 0.1 and on["queries"] == on["misses"] >= 1
    assert (tmp_path / "cache.png").read_bytes().startswith(PNG_MAGIC)
    assert "| with the cache | 200 | 4 |" in (tmp_path / "cache.md").read_text()
    results = (tmp_path / "RESULTS.md").read_text()
    assert "<!-- figures:bench-cache -->" in results and "](cache.png)" in results
    assert data["cache_db"] == tasks.DATABASES["cache"]


def test_bench_databases_are_declared_once():
    """Every Redis URL bench builds uses bench.tasks.DATABASES, and the private server it
    starts has that many databases."""
    numbers = tasks.DATABASES
    assert tasks.app.conf.broker_url.endswith(f"/{numbers['broker']}")
    assert tasks.app.conf.result_backend.endswith(f"/{numbers['backend']}")
    assert harness.db_url("redis://h:1", "scratch") == f"redis://h:1/{numbers['scratch']}"
    assert cache.CACHE_DB == numbers["cache"]
    assert f'/{numbers["cache"]}"' in dict((k, t) for k, _, t in cache.CONFIGS)["redis"]
    assert harness.SERVER_DATABASES > max(numbers.values())
    assert len(set(numbers.values())) == len(numbers)


def test_drills_run_what_the_chapters_list():
    """Each recorded drill is a command its chapter's steps.toml runs or lists, and every
    figure pattern finds its number in the output the chapter's README shows."""
    for name, (chapter_name, command, needs, patterns, _) in drills.DRILLS.items():
        chapter = walkthrough.load(ROOT / chapter_name)
        listed = [step.run for step in chapter.steps] + list(chapter.commands.values())
        assert command in listed or command.split()[:2] in [c.split()[:2] for c in listed], name
        assert set(needs) <= set(chapter.processes), name
        readme = (ROOT / chapter_name / "README.md").read_text()
        figures, missing = drills.parse(readme[readme.index(f"$ {command.split()[0]} "
                                                            f"{command.split()[1]}"):], patterns)
        assert not missing, (name, missing)


def test_drill_output_that_changed_is_a_problem_not_a_guess():
    figures, missing = drills.parse("[6] submitted 20, completed 19, lost 1, ran more than once 2",
                                    drills.DRILLS["worker_killed"][3])
    assert figures == {"submitted": 20, "completed": 19, "lost": 1, "ran_twice": 2} and not missing
    figures, missing = drills.parse("[6] 20 sent, 20 done", drills.DRILLS["worker_killed"][3])
    assert figures == {} and missing == ["submitted", "completed", "lost", "ran_twice"]
