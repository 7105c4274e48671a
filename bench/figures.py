"""Every figure a README quotes, rendered from a recorded measurement: READMEs cannot drift.

    python -m bench.figures            rewrite every marked block from bench/results/*.json
    python -m bench.figures --check    only say which blocks differ (exit 1 if any)

A README quotes a measured figure only inside a marked block:

    <!-- figures:NAME -->...<!-- /figures:NAME -->

on its own lines (a paragraph, a table) or inside a sentence. What is between the two
markers is rendered by RENDERERS[NAME] from the JSON files in bench/results/ (the
benchmarks' and bench/drills.py's records), in the README's language (README.zh-CN.md:
Chinese text from the same numbers). `make bench` rewrites the blocks after each run;
tests/test_figures.py renders every block again and fails when a README differs, or when
a README lost or gained a block (BLOCKS below lists where each one belongs).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
from pathlib import Path
from typing import Callable

from bench import harness

ROOT = harness.ROOT
BLOCK = re.compile(r"<!-- figures:(?P<name>[a-z0-9-]+) -->(?P<body>.*?)<!-- /figures:(?P=name) -->",
                   re.DOTALL)
OPENING = re.compile(r"<!-- /?figures:([a-z0-9-]+) -->")

Results = dict[str, dict]  # "pools" -> the content of bench/results/pools.json
Renderer = Callable[[Results, str], str]  # (results, "en" or "zh") -> the block's text


def load_results(folder: Path = harness.RESULTS_DIR) -> Results:
    return {path.stem: json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))}


def language(path: Path) -> str:
    return "zh" if path.name.endswith(".zh-CN.md") else "en"


# --- the numbers, looked up ---------------------------------------------------------------

def pool_row(results: Results, pool: str, job: str) -> dict:
    return next(r for r in results["pools"]["rows"] if r["pool"] == pool and r["job"] == job)


def secs(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def ms(value: float) -> str:
    return f"{value:.2f}" if value < 1 else f"{value:.1f}"


def latency_figures(results: Results) -> tuple[float, float | None]:
    rows = results["latency"]["rows"]
    rt = next(r for r in rows if r["what"].startswith("no-op round trip"))["median_ms"]
    py_set = next((r["median_ms"] for r in rows if r["group"] == "Redis from Python (redis-py)"
                   and r["what"].startswith("SET")), None)
    return rt, py_set


def cache_rows(results: Results) -> tuple[dict, dict]:
    by = {r["key"]: r for r in results["cache"]["rows"]}
    return by["off"], by["redis"]


def drill(results: Results, name: str) -> dict:
    return results["drills"]["runs"][name]


def others_cpu(results: Results) -> tuple[float, float]:
    base = results["pools"]["baseline"]
    values = [r["seconds"] for r in results["pools"]["rows"]
              if r["job"] == "CPU" and f"{r['pool']} -c {r['concurrency']}" != base and r["seconds"]]
    return min(values), max(values)


def span(lo: float, hi: float, unit: str) -> str:
    return f"{secs(lo)}{unit}" if secs(lo) == secs(hi) else f"{secs(lo)}-{secs(hi)}{unit}"


def pools_pattern_holds(results: Results) -> bool:
    """The lesson's pattern: many threads beat 2 processes on waiting, lose on computing."""
    io = {p: pool_row(results, p, "I/O")["seconds"] for p in ("prefork", "threads")}
    cpu = {p: pool_row(results, p, "CPU")["seconds"] for p in ("prefork", "threads")}
    return all(io.values()) and all(cpu.values()) and io["threads"] < io["prefork"] \
        and cpu["prefork"] < cpu["threads"]


# --- the blocks -----------------------------------------------------------------------------

def measured_table(results: Results, lang: str) -> str:
    """The root README's "Measured" table."""
    pools = results["pools"]
    io_n, sleep = pools["sizes"]["tasks"], pools["sizes"]["sleep"]
    cpu_n, cpu_ms = pools["sizes"]["cpu_tasks"], pools["sizes"]["cpu_ms"]
    pre, thr = pool_row(results, "prefork", "I/O"), pool_row(results, "threads", "I/O")
    ev, ge = pool_row(results, "eventlet", "I/O"), pool_row(results, "gevent", "I/O")
    pre_cpu = pool_row(results, "prefork", "CPU")
    lo, hi = others_cpu(results)
    rt, py_set = latency_figures(results)
    off, on = cache_rows(results)
    lock, killed = drill(results, "breakdown"), drill(results, "worker_killed")
    route = drill(results, "routing")
    cores = pools["machine"]["cores"]
    if lang == "zh":
        rows = [
            ("等待型任务适合用线程或协程",
             f"{io_n} 个各等待 {sleep:g} 秒的任务：prefork -c 2 用 {secs(pre['seconds'])} 秒，"
             f"threads -c 50 用 {secs(thr['seconds'])} 秒（快 {thr['speedup']:.0f} 倍），"
             f"eventlet -c 200 {secs(ev['seconds'])} 秒，gevent -c 200 {secs(ge['seconds'])} 秒"),
            ("……计算型任务却不行",
             f"{cpu_n} 个各计算 {cpu_ms:g} 毫秒的任务：prefork -c 2 用 {secs(pre_cpu['seconds'])} 秒，"
             f"其他执行池 {span(lo, hi, ' 秒')}"),
            ("一个任务本身只有几毫秒的开销",
             f"空任务往返一次 {ms(rt)} 毫秒（中位数）；从 Python 执行一次 Redis SET "
             f"{ms(py_set)} 毫秒" if py_set else f"空任务往返一次 {ms(rt)} 毫秒（中位数）"),
            ("轮播图缓存减轻了数据库压力",
             f"每个请求的查询次数 {off['queries_per_request']:.2f} → {on['queries_per_request']:.3f}，"
             f"每秒请求数 {off['per_second']:.0f} → {on['per_second']:.0f}"),
            ("加锁能挡住缓存击穿",
             f"热点 key 过期时 {lock['readers']} 个并发读：不加锁查 {lock['queries_without_lock']} "
             f"次数据库，加锁只查 {lock['queries_with_lock']} 次（第 06 章 `breakdown.py`）"),
            ("`acks_late` 在 worker 崩溃时不丢任务",
             f"{killed['submitted']} 个任务，先杀一个子进程、再杀整个 worker：完成 "
             f"{killed['completed']} 个，丢失 {killed['lost']} 个，{killed['ran_twice']} 个执行了"
             "两次（第 02 章 `drill_worker_killed.py`）"),
            ("每类任务一个队列，快任务才能一直快",
             f"排在 6 个报表后面的短信，延迟中位数 {route['shared_median_ms']:.0f} 毫秒；"
             f"短信有自己的队列和 worker 时 {route['own_median_ms']:.1f} 毫秒（第 08 章 `routing.py`）"),
        ]
        head = f"| 说法 | 实测（{cores} 核机器；日期和负载见 bench/RESULTS.md） |"
    else:
        rows = [
            ("threads or green threads for tasks that wait",
             f"{io_n} tasks of {sleep:g} s: prefork -c 2 {secs(pre['seconds'])} s, threads -c 50 "
             f"{secs(thr['seconds'])} s ({thr['speedup']:.0f}x), eventlet -c 200 "
             f"{secs(ev['seconds'])} s, gevent -c 200 {secs(ge['seconds'])} s"),
            ("... but not for tasks that compute",
             f"{cpu_n} tasks of {cpu_ms:g} ms: prefork -c 2 {secs(pre_cpu['seconds'])} s, the "
             f"other pools {span(lo, hi, ' s')}"),
            ("a task is a few milliseconds of overhead",
             f"no-op round trip {ms(rt)} ms (median)"
             + (f"; a Redis SET from Python {ms(py_set)} ms" if py_set else "")),
            ("the banner cache takes load off the database",
             f"{off['queries_per_request']:.2f} → {on['queries_per_request']:.3f} queries per "
             f"request, {off['per_second']:.0f} → {on['per_second']:.0f} requests/s"),
            ("a lock stops a cache stampede",
             f"{lock['readers']} readers of an expired hot key: {lock['queries_without_lock']} "
             f"database queries without, {lock['queries_with_lock']} with (chapter 06, "
             "`breakdown.py`)"),
            ("`acks_late` loses nothing when a worker dies",
             f"{killed['submitted']} tasks, a pool process and then the whole worker killed: "
             f"{killed['completed']} completed, {killed['lost']} lost, {killed['ran_twice']} ran "
             "twice (chapter 02, `drill_worker_killed.py`)"),
            ("a queue per kind of work keeps fast tasks fast",
             f"SMS sent behind 6 reports: median latency {route['shared_median_ms']:.0f} ms; on "
             f"their own queue and worker {route['own_median_ms']:.1f} ms (chapter 08, `routing.py`)"),
        ]
        head = f"| claim | measured on {cores} cores (dates and load in bench/RESULTS.md) |"
    return "\n".join([head, "| --- | --- |"] + [f"| {a} | {b} |" for a, b in rows])


def pools_paragraph(results: Results, lang: str) -> str:
    """Chapter 01's figures for the worker pools and a no-op's round trip."""
    pools = results["pools"]
    cores, io_n, sleep = pools["machine"]["cores"], pools["sizes"]["tasks"], pools["sizes"]["sleep"]
    cpu_n, cpu_ms = pools["sizes"]["cpu_tasks"], pools["sizes"]["cpu_ms"]
    pre, thr = pool_row(results, "prefork", "I/O"), pool_row(results, "threads", "I/O")
    ev, ge = pool_row(results, "eventlet", "I/O"), pool_row(results, "gevent", "I/O")
    pre_cpu = pool_row(results, "prefork", "CPU")
    lo, hi = others_cpu(results)
    rt, py_set = latency_figures(results)
    holds = pools_pattern_holds(results)
    if lang == "zh":
        text = (f"在一台 {cores} 核机器上，{io_n} 个各等待 {sleep:g} 秒的任务：`prefork -c 2` 用了 "
                f"{secs(pre['seconds'])} 秒，`threads -c 50` 用了 {secs(thr['seconds'])} 秒（快 "
                f"{thr['speedup']:.0f} 倍），`eventlet -c 200` {secs(ev['seconds'])} 秒，"
                f"`gevent -c 200` {secs(ge['seconds'])} 秒；{cpu_n} 个各计算 {cpu_ms:g} 毫秒的任务："
                f"prefork 用了 {secs(pre_cpu['seconds'])} 秒，其他执行池 {span(lo, hi, ' 秒')}。")
        text += ("线程和协程只对“等待型”任务有帮助；“计算型”任务只有多进程才能加速。" if holds else
                 "这一次的数字没有呈现通常的规律，请看 bench/RESULTS.md 里的完整记录。")
        text += f"一个空任务经过 Redis 往返一次的中位数是 {ms(rt)} 毫秒"
        if py_set:
            text += f"，其中 Redis 本身只占很小一部分：从 Python 执行一次 SET 只要 {ms(py_set)} 毫秒"
        return text + "。"
    text = (f"On a {cores}-core machine, {io_n} tasks that each wait {sleep:g} s took "
            f"{secs(pre['seconds'])} s on `prefork -c 2`, {secs(thr['seconds'])} s on "
            f"`threads -c 50` ({thr['speedup']:.0f}x faster), {secs(ev['seconds'])} s on "
            f"`eventlet -c 200` and {secs(ge['seconds'])} s on `gevent -c 200`; {cpu_n} tasks "
            f"that compute for {cpu_ms:g} ms took {secs(pre_cpu['seconds'])} s on prefork and "
            f"{span(lo, hi, ' s')} on every other pool. ")
    text += ("Threads and green threads help tasks that wait; only processes help tasks that "
             "compute. " if holds else "This run did not show the usual pattern: see the full "
             "record in bench/RESULTS.md. ")
    text += f"A no-op task's round trip through Redis took {ms(rt)} ms (median)"
    if py_set:
        text += f", of which Redis itself is a small part: a SET from Python took {ms(py_set)} ms"
    return text + "."


def cache_paragraph(results: Results, lang: str) -> str:
    """Chapter 05's figures for the banner API under load."""
    off, on = cache_rows(results)
    cores = results["cache"]["machine"]["cores"]
    link = "../bench/RESULTS.md#the-banner-api-with-and-without-its-cache"
    if lang == "zh":
        return (f"`make bench`（见 `bench/cache.py`）用 {on['clients']} 个客户端同时向这个站点发 "
                f"{on['requests']:,} 个请求：**不用缓存时每个请求查 {off['queries_per_request']:.2f} "
                f"次数据库，用缓存后是 {on['queries_per_request']:.3f} 次**（{on['ok']:,} 个请求里有 "
                f"{on['misses']} 次未命中），开发服务器每秒处理的请求从 {off['per_second']:.0f} 个"
                f"变成 {on['per_second']:.0f} 个（在一台 {cores} 核机器上测得，[数据和图表]({link})）。")
    return (f"`make bench` (see `bench/cache.py`) sends {on['requests']:,} requests from "
            f"{on['clients']} clients at once to this site: **{off['queries_per_request']:.2f} "
            f"database queries per request without the cache, {on['queries_per_request']:.3f} "
            f"with it** ({on['misses']} misses in {on['ok']:,}), and {on['per_second']:.0f} "
            f"requests per second instead of {off['per_second']:.0f} on the development server, "
            f"on a {cores}-core machine ([figures and chart]({link})).")


def refresh_window(results: Results, lang: str) -> str:
    value = drill(results, "race_celery")["refresh_window_s"]
    return f"实测 {value:.1f} 秒" if lang == "zh" else f"{value:.1f} s measured"


def double_delete_window(results: Results, lang: str) -> str:
    value = drill(results, "race_celery")["double_delete_window_s"]
    return f"实测 {value:.1f} 秒" if lang == "zh" else f"{value:.1f} s measured"


def avalanche_peaks(results: Results, lang: str) -> str:
    a = drill(results, "avalanche")
    if lang == "zh":
        return (f"每 0.25 秒内的峰值从 {a['peak_one_ttl']} 次降到 {a['peak_jitter']} 次，同时进行的"
                f"查询从 {a['at_once_one_ttl']} 个降到 {a['at_once_jitter']} 个（`make bench` 记录的"
                "最近一次运行）")
    return (f"the peak drops from {a['peak_one_ttl']} to {a['peak_jitter']} queries in 0.25 s "
            f"and from {a['at_once_one_ttl']} to {a['at_once_jitter']} at once (the last "
            "run `make bench` recorded)")


def group_speedup(results: Results, lang: str) -> str:
    """Chapter 07's group against one by one."""
    g = drill(results, "group")
    ratio = g["one_by_one_s"] / g["group_s"]
    if lang == "zh":
        return (f"`make bench` 最近一次记录：逐个调用 {g['one_by_one_s']:.1f} 秒，作为 group "
                f"{g['group_s']:.1f} 秒（{g['slots']} 个执行槽位），快 {ratio:.1f} 倍。")
    return (f"Recorded by `make bench`, last run: one by one {g['one_by_one_s']:.1f} s, as a "
            f"group {g['group_s']:.1f} s on {g['slots']} slots, {ratio:.1f}x faster.")


def chunks_figures(results: Results, lang: str) -> str:
    """Chapter 07's 1,000 tiny calls: one by one, in chunks, as one starmap."""
    c = drill(results, "chunks")
    ratio = c["one_by_one_s"] / c["chunks_s"]
    if lang == "zh":
        return (f"`make bench` 最近一次记录：逐个发送 {c['one_by_one_messages']} 条消息用了 "
                f"{c['one_by_one_s']:.2f} 秒，分块后 {c['chunk_messages']} 条消息 "
                f"{c['chunks_s']:.2f} 秒（快 {ratio:.1f} 倍），一个 starmap 任务 {c['starmap_s']:.2f} 秒。")
    return (f"Recorded by `make bench`, last run: {c['one_by_one_messages']} messages one by "
            f"one took {c['one_by_one_s']:.2f} s, {c['chunk_messages']} messages in chunks "
            f"{c['chunks_s']:.2f} s ({ratio:.1f}x faster), one starmap task {c['starmap_s']:.2f} s.")


def routing_figures(results: Results, lang: str) -> str:
    """Chapter 08's SMS latency, one queue against a queue per kind of work."""
    r = drill(results, "routing")
    ratio = r["shared_median_ms"] / r["own_median_ms"]
    if lang == "zh":
        return (f"`make bench` 最近一次记录：共用一个队列时短信延迟中位数 {r['shared_median_ms']:.1f} 毫秒"
                f"（p95 {r['shared_p95_ms']:.1f} 毫秒），各用各的队列时 {r['own_median_ms']:.1f} 毫秒"
                f"（p95 {r['own_p95_ms']:.1f} 毫秒），少等 {ratio:.0f} 倍。")
    return (f"Recorded by `make bench`, last run: SMS latency median {r['shared_median_ms']:.1f} ms "
            f"(p95 {r['shared_p95_ms']:.1f} ms) on one queue, {r['own_median_ms']:.1f} ms (p95 "
            f"{r['own_p95_ms']:.1f} ms) on its own: {ratio:.0f}x less waiting.")


def rate_limit_figures(results: Results, lang: str) -> str:
    """Chapter 08's rate limit on two workers."""
    r = drill(results, "rate_limit")
    rate = r["calls"] / r["seconds"]
    alone = 1 + int(r["seconds"] * 2)  # one token at once, then 2 a second (rate_limits.py)
    if lang == "zh":
        return (f"`make bench` 最近一次记录：限速 120/m（每秒 2 次）时，两个 worker 在 {r['seconds']:.1f} 秒内"
                f"跑完 {r['calls']} 次调用，每秒 {rate:.1f} 次；同样的时间里一个 worker 最多只能跑 {alone} 次。")
    return (f"Recorded by `make bench`, last run: at 120/m (2 a second), two workers ran "
            f"{r['calls']} calls in {r['seconds']:.1f} s, {rate:.1f} a second; one worker could "
            f"have run at most {alone} in that time.")


def prefetch_figures(results: Results, lang: str) -> str:
    """Chapter 08's short tasks stuck behind a long one."""
    p = drill(results, "prefetch")
    if lang == "zh":
        return (f"`make bench` 最近一次记录：7 个短任务里，默认设置下有 {p['stuck_default']} 个被卡在长任务后面"
                f"（p95 等待 {p['p95_default_s']:.2f} 秒），`--prefetch-multiplier 1` 时 "
                f"{p['stuck_multiplier_1']} 个，再加上 `acks_late` 时 {p['stuck_acks_late']} 个"
                f"（p95 {p['p95_acks_late_s']:.2f} 秒）。")
    return (f"Recorded by `make bench`, last run: of 7 short tasks, {p['stuck_default']} waited "
            f"behind the long one with the defaults (p95 wait {p['p95_default_s']:.2f} s), "
            f"{p['stuck_multiplier_1']} with `--prefetch-multiplier 1`, {p['stuck_acks_late']} "
            f"with `acks_late` too (p95 {p['p95_acks_late_s']:.2f} s).")


def shutdown_figures(results: Results, lang: str) -> str:
    """Chapter 08's three shutdowns, side by side."""
    d = drill(results, "shutdown")
    if lang == "zh":
        return (f"`make bench` 最近一次记录：发信号后，热关闭 {d['warm_s']:.1f} 秒退出，软关闭 "
                f"{d['soft_s']:.1f} 秒，冷关闭 {d['cold_s']:.1f} 秒。")
    return (f"Recorded by `make bench`, last run: after the signal, the warm shutdown took "
            f"{d['warm_s']:.1f} s, the soft one {d['soft_s']:.1f} s, the cold one {d['cold_s']:.1f} s.")


def cut_off_figures(results: Results, lang: str) -> str:
    """Chapter 09's host cut off while it held tasks."""
    c = drill(results, "cut_off")
    if lang == "zh":
        return (f"`make bench` 最近一次记录：提交 {c['submitted']} 个，完成 {c['completed']} 个，"
                f"丢失 {c['lost']} 个。")
    return (f"Recorded by `make bench`, last run: submitted {c['submitted']}, completed "
            f"{c['completed']}, lost {c['lost']}.")


def rabbitmq_figures(results: Results, lang: str) -> str:
    """Chapter 09's long ETA through Redis and RabbitMQ, and what RabbitMQ costs."""
    r = drill(results, "rabbitmq")
    if lang == "zh":
        return (f"`make bench` 最近一次记录：同一个任务在 Redis 上执行了 {r['redis_runs']} 次，在 RabbitMQ 上 "
                f"{r['rabbitmq_runs']} 次；RabbitMQ 启动 {r['rabbitmq_start_s']:.1f} 秒后接受第一次登录，"
                f"redis-server {r['redis_start_s']:.3f} 秒；运行后常驻内存 {r['rabbitmq_mib']} MiB（beam.smp）"
                f"对比 {r['redis_mib']} MiB（redis-server）。")
    return (f"Recorded by `make bench`, last run: the same task ran {r['redis_runs']} times on "
            f"Redis, {r['rabbitmq_runs']} on RabbitMQ; RabbitMQ's first login {r['rabbitmq_start_s']:.1f} s "
            f"after its start, redis-server's first answer {r['redis_start_s']:.3f} s; resident memory "
            f"after the run {r['rabbitmq_mib']} MiB (beam.smp) against {r['redis_mib']} MiB (redis-server).")


def failover_figures(results: Results, lang: str) -> str:
    """Chapter 09's Sentinel failover."""
    f = drill(results, "failover")
    if lang == "zh":
        return (f"`make bench` 最近一次记录：杀掉主节点 {f['promoted_s']:.1f} 秒后哨兵提升了从节点，"
                f"生产者有 {f['gap_s']:.1f} 秒没有 broker 可用；提交 {f['submitted']} 个，丢失 {f['lost']} 个。")
    return (f"Recorded by `make bench`, last run: the Sentinels promoted the replica "
            f"{f['promoted_s']:.1f} s after the kill, the producer had no broker for "
            f"{f['gap_s']:.1f} s; submitted {f['submitted']}, lost {f['lost']}.")


def sms_flood_figures(results: Results, lang: str) -> str:
    """Chapter 05's SMS flood: the view's throttle, then the task's rate limit."""
    f = drill(results, "sms_flood")
    if lang == "zh":
        return (f"`make bench` 最近一次记录：一个客户端发出的 {f['requests']} 个请求里，{f['accepted']} 个被接受，"
                f"{f['refused']} 个得到 429；worker 平均每 {f['every_s']:.1f} 秒发出一条，"
                f"每分钟 {60 / f['every_s']:.0f} 条。")
    return (f"Recorded by `make bench`, last run: of {f['requests']} requests from one client, "
            f"{f['accepted']} were accepted and {f['refused']} refused with 429; the worker sent "
            f"one every {f['every_s']:.1f} s on average, {60 / f['every_s']:.0f} a minute.")


def result_backends_figures(results: Results, lang: str) -> str:
    """Chapter 05's round trip with the result in Redis and in the database."""
    r = drill(results, "result_backends")
    if lang == "zh":
        return (f"`make bench` 最近一次记录（每种 {r['rounds']} 次往返）：结果存在 Redis 里，中位数 "
                f"{r['redis_median_ms']:.1f} 毫秒（p95 {r['redis_p95_ms']:.1f} 毫秒）；存在数据库里、"
                f"`.get()` 用默认间隔时 {r['db_median_ms']:.0f} 毫秒（p95 {r['db_p95_ms']:.0f} 毫秒）；"
                f"`.get(interval=0.05)` 时 {r['db_fast_median_ms']:.1f} 毫秒（p95 "
                f"{r['db_fast_p95_ms']:.1f} 毫秒）。")
    return (f"Recorded by `make bench`, last run ({r['rounds']} round trips each): the result in "
            f"Redis, median {r['redis_median_ms']:.1f} ms (p95 {r['redis_p95_ms']:.1f} ms); in the "
            f"database with `.get()`'s default interval {r['db_median_ms']:.0f} ms (p95 "
            f"{r['db_p95_ms']:.0f} ms); with `.get(interval=0.05)` {r['db_fast_median_ms']:.1f} ms "
            f"(p95 {r['db_fast_p95_ms']:.1f} ms).")


def results_section(name: str) -> Renderer:
    """A benchmark's whole section of bench/RESULTS.md (English only)."""
    def render(results: Results, lang: str) -> str:
        from bench import cache, drills, first_run, latency, pools

        if name in ("first_run", "drills"):
            return "\n" + {"first_run": first_run, "drills": drills}[name].section(results[name]) + "\n"
        module = {"pools": pools, "latency": latency, "cache": cache}[name]
        return "\n" + module.section(results[name], f"results/{name}.png") + "\n"
    return render


def block(render: Callable[[Results, str], str]) -> Renderer:
    """A block on lines of its own, set off by blank lines; English prose is wrapped at 90
    columns like the READMEs around it (Chinese lines are not wrapped, as in those files)."""
    def rendered(results: Results, lang: str) -> str:
        text = render(results, lang)
        if lang == "en" and not text.startswith("|"):
            text = textwrap.fill(text, 90, break_long_words=False, break_on_hyphens=False)
        return "\n\n" + text + "\n\n"
    return rendered


RENDERERS: dict[str, Renderer] = {
    "measured": block(measured_table),
    "pools": block(pools_paragraph),
    "cache": block(cache_paragraph),
    "sms-flood": block(sms_flood_figures),
    "refresh-window": refresh_window,
    "double-delete-window": double_delete_window,
    "avalanche-peaks": avalanche_peaks,
    "group-speedup": block(group_speedup),
    "chunks": block(chunks_figures),
    "routing": block(routing_figures),
    "rate-limit": block(rate_limit_figures),
    "prefetch": block(prefetch_figures),
    "shutdown": block(shutdown_figures),
    "cut-off": block(cut_off_figures),
    "rabbitmq": block(rabbitmq_figures),
    "failover": block(failover_figures),
    "result-backends": block(result_backends_figures),
    "bench-pools": results_section("pools"),
    "bench-latency": results_section("latency"),
    "bench-cache": results_section("cache"),
    "bench-drills": results_section("drills"),
    "bench-first-run": results_section("first_run"),
}

# Where each block belongs (both languages of a README pair have the same blocks).
BLOCKS: dict[str, list[str]] = {
    "README.md": ["measured"],
    "01_quickstart/README.md": ["pools"],
    "05_django_integration/README.md": ["cache", "result-backends", "sms-flood"],
    "06_cache_consistency/README.md": ["refresh-window", "double-delete-window",
                                       "avalanche-peaks", "refresh-window"],
    "07_workflows/README.md": ["group-speedup", "chunks"],
    "08_production/README.md": ["routing", "rate-limit", "prefetch", "shutdown"],
    "09_scale_out/README.md": ["cut-off", "rabbitmq", "failover"],
    "bench/RESULTS.md": ["bench-pools", "bench-latency", "bench-cache", "bench-drills",
                         "bench-first-run"],
}


def files() -> list[Path]:
    """Every file that may quote figures: each README pair and bench/RESULTS.md."""
    out = []
    for path in [ROOT / "README.md", *sorted(ROOT.glob("[0-9][0-9]_*/README.md"))]:
        out += [path, path.with_name("README.zh-CN.md")]
    return out + [harness.RESULTS_MD]


def expected_blocks(path: Path) -> list[str]:
    key = str(path.relative_to(ROOT)).replace("README.zh-CN.md", "README.md")
    return BLOCKS.get(key, [])


def rewrite(text: str, lang: str, results: Results) -> str:
    """text with every block's body rendered again from results."""
    def one(found: re.Match) -> str:
        name = found["name"]
        if name not in RENDERERS:
            raise KeyError(f"no renderer for the block figures:{name} (bench/figures.py)")
        return f"<!-- figures:{name} -->{RENDERERS[name](results, lang)}<!-- /figures:{name} -->"
    return BLOCK.sub(one, text)


def problems(path: Path, text: str, results: Results) -> list[str]:
    """What is wrong with the blocks of one file: [] when it matches the records."""
    label = str(path.relative_to(ROOT))
    out = []
    names = [found["name"] for found in BLOCK.finditer(text)]
    markers = OPENING.findall(text)
    if len(markers) != 2 * len(names):
        out.append(f"{label}: a figures marker without its partner "
                   f"({len(markers)} markers, {len(names)} complete blocks)")
    if names != expected_blocks(path):
        out.append(f"{label}: blocks {names}, expected {expected_blocks(path)} "
                   "(bench/figures.py BLOCKS)")
    for found in BLOCK.finditer(text):
        name = found["name"]
        if name not in RENDERERS:
            out.append(f"{label}: no renderer for the block figures:{name} (bench/figures.py)")
            continue
        want = RENDERERS[name](results, language(path))
        if found["body"] != want:
            out.append(f"{label}: figures:{name} differs from what bench/results/*.json gives:\n"
                       f"  README: {found['body'].strip()[:400]!r}\n"
                       f"  JSON:   {want.strip()[:400]!r}")
    return out


def check_all(results_dir: Path = harness.RESULTS_DIR) -> list[str]:
    results = load_results(results_dir)
    return [p for path in files() if path.exists() for p in problems(path, path.read_text(), results)]


def rewrite_all(results_dir: Path = harness.RESULTS_DIR) -> list[Path]:
    """Render every block from results_dir; return the files that changed."""
    results = load_results(results_dir)
    changed = []
    for path in files():
        if not path.exists():
            continue
        text = path.read_text()
        new = rewrite(text, language(path), results)
        if new != text:
            path.write_text(new)
            changed.append(path)
    return changed


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.figures", description=__doc__.split("\n")[0])
    p.add_argument("--check", action="store_true", help="change nothing; exit 1 if a block differs")
    args = p.parse_args(argv)
    if args.check:
        found = check_all()
        for problem in found:
            print(f"[figures] {problem}")
        print(f"[figures] {'every block matches' if not found else f'{len(found)} problem(s)'} "
              "(bench/results/*.json)")
        return 1 if found else 0
    for path in rewrite_all():
        print(f"[figures] rewrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
