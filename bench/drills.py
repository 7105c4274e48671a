"""The chapters' own measurements, recorded: the drills and scripts whose counts READMEs quote.

    python -m bench.drills             every script below, once
    python -m bench.drills --only 06   one chapter's

Each script is run exactly as its chapter's README shows it (the command from steps.toml),
in a scratch copy of the chapter folder (the real folder is never touched), against bench's
private Redis, with the chapter's worker and beat from its Procfile where the script needs
them. The figures each one prints are parsed and written to bench/results/drills.json, from
which `python -m bench.figures` renders the README passages that quote them. A script
whose output no longer matches its pattern is a problem reported (exit 1), never a guess.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from bench import harness
from bench.harness import say
from tour import runner, walkthrough

# name: (chapter folder, command, Procfile processes it needs, {figure: pattern}, timeout)
# Each pattern has one group, an integer or a decimal.
DRILLS = {
    "worker_killed": ("02_package_layout", "python drill_worker_killed.py", (), {
        "submitted": r"\bsubmitted (\d+),",
        "completed": r"\bcompleted (\d+),",
        "lost": r"\blost (\d+),",
        "ran_twice": r"ran more than once (\d+)",
    }, 180),
    "breakdown": ("06_cache_consistency", "python breakdown.py", (), {
        "readers": r"Without a lock: (\d+) readers",
        "queries_without_lock": r"Without a lock: \d+ readers -> (\d+) DB quer",
        "queries_with_lock": r"With a lock: +\d+ readers -> (\d+) DB quer",
    }, 120),
    "avalanche": ("06_cache_consistency", "python avalanche.py", (), {
        "entries": r"total (\d+)\n",
        "peak_one_ttl": r"One TTL for all.*?peak: (\d+) DB queries",
        "at_once_one_ttl": r"One TTL for all.*?peak: .*?, (\d+) at once",
        "peak_jitter": r"jitter.*?peak: (\d+) DB queries",
        "at_once_jitter": r"jitter.*?peak: .*?, (\d+) at once",
    }, 120),
    "race_celery": ("06_cache_consistency", "python race.py 4 5", ("worker", "beat"), {
        "refresh_window_s": r"strategy 4: .*?consistent after ([\d.]+) s",
        "double_delete_window_s": r"strategy 5: .*?consistent after ([\d.]+) s",
    }, 120),
    "group": ("07_workflows", "python group_demo.py", ("worker",), {
        "one_by_one_s": r"one by one: 20 x nap\(0\.5\) took ([\d.]+) s",
        "group_s": r"as a group: +20 x nap\(0\.5\) took ([\d.]+) s",
        "slots": r"with (\d+) pool slots",
    }, 120),
    "chunks": ("07_workflows", "python chunks_demo.py", ("worker",), {
        "one_by_one_messages": r"one by one: (\d+) messages",
        "one_by_one_s": r"one by one: \d+ messages, ([\d.]+) s",
        "chunk_messages": r"add\.chunks\(pairs, 100\): (\d+) messages",
        "chunks_s": r"add\.chunks\(pairs, 100\): \d+ messages, ([\d.]+) s",
        "starmap_s": r"add\.starmap\(pairs\): \d+ message, ([\d.]+) s",
    }, 120),
    "routing": ("08_production", "python routing.py", ("sms", "reports"), {
        "shared_median_ms": r"one queue:.*?SMS latency: median ([\d.]+) ms",
        "shared_p95_ms": r"one queue:.*?SMS latency: median [\d.]+ ms, p95 ([\d.]+) ms",
        "own_median_ms": r"own queues.*?SMS latency: median ([\d.]+) ms",
        "own_p95_ms": r"own queues.*?SMS latency: median [\d.]+ ms, p95 ([\d.]+) ms",
    }, 120),
    "rate_limit": ("08_production", "python rate_limits.py", ("sms", "reports"), {
        "calls": r"\[2\] (\d+) calls ran",
        "seconds": r"calls ran in ([\d.]+) s",
    }, 120),
    "prefetch": ("08_production", "python fairness.py", (), {
        "stuck_default": r"\[1\].*?\n +(\d+) of 7 short tasks",
        "p95_default_s": r"\[1\].*?\n.*?p95 ([\d.]+) s",
        "stuck_multiplier_1": r"\[2\].*?\n +(\d+) of 7 short tasks",
        "stuck_acks_late": r"\[3\].*?\n +(\d+) of 7 short tasks",
        "p95_acks_late_s": r"\[3\].*?\n.*?p95 ([\d.]+) s",
    }, 120),
    "cut_off": ("09_scale_out", "python cut_off.py", (), {
        "submitted": r"\bsubmitted (\d+),",
        "completed": r"\bcompleted (\d+),",
        "lost": r"\blost (\d+),",
    }, 120),
    "rabbitmq": ("09_scale_out", "python rabbitmq_vs_redis.py", (), {
        "redis_runs": r"Redis   : delivered \d+ times?, ran (\d+) time",
        "rabbitmq_runs": r"RabbitMQ: delivered \d+ times?, ran (\d+) time",
        "rabbitmq_start_s": r"first answer after ([\d.]+) s against",
        "redis_start_s": r"first answer after [\d.]+ s against ([\d.]+) s",
        "rabbitmq_mib": r"resident memory after the run (\d+) MiB \(beam\.smp\)",
        "redis_mib": r"MiB \(beam\.smp\) against (\d+) MiB",
    }, 180),
    "failover": ("09_scale_out", "python failover.py", (), {
        "promoted_s": r"promoted the replica \S+ ([\d.]+) s after the kill",
        "gap_s": r"the producer had no broker for ([\d.]+) s",
        "submitted": r"\bsubmitted (\d+),",
        "lost": r"\blost (\d+),",
    }, 180),
    "sms_flood": ("05_django_integration", "python manage.py sms_flood", ("web", "worker"), {
        "requests": r"\[1\] (\d+) requests to POST /api/sms/",
        "accepted": r"202 accepted: (\d+),",
        "refused": r"429 refused: (\d+),",
        "every_s": r"one every ([\d.]+) s: the rate limit",
    }, 120),
    "shutdown": ("08_production", "python shutdown.py", (), {
        "warm_s": r"warm: SIGTERM -> exited after ([\d.]+) s",
        "soft_s": r"soft: SIGQUIT -> exited after ([\d.]+) s",
        "cold_s": r"cold: SIGQUIT -> exited after ([\d.]+) s",
    }, 120),
    "result_backends": ("05_django_integration", "python manage.py compare_backends", ("worker",), {
        "redis_median_ms": r"Redis \(db \d+, the project's\) *: median +([\d.]+) ms",
        "redis_p95_ms": r"Redis \(db \d+, the project's\) *: median +[\d.]+ ms, p95 +([\d.]+) ms",
        "db_median_ms": r"the database, \.get\(\) *: median +([\d.]+) ms",
        "db_p95_ms": r"the database, \.get\(\) *: median +[\d.]+ ms, p95 +([\d.]+) ms",
        "db_fast_median_ms": r"interval=0\.05\) *: median +([\d.]+) ms",
        "db_fast_p95_ms": r"interval=0\.05\) *: median +[\d.]+ ms, p95 +([\d.]+) ms",
        "rounds": r"\[1\] (\d+) round trips",
    }, 120),
}
# The walkthrough steps a drill's command needs done first, in the same scratch copy (a
# chapter 05 command needs its database migrated).
BEFORE = {"result_backends": ["python manage.py migrate"]}


def parse(output: str, patterns: dict[str, str]) -> tuple[dict, list[str]]:
    """The figures found in output, and the names of those that were not."""
    figures, missing = {}, []
    for name, pattern in patterns.items():
        found = re.search(pattern, output, re.DOTALL)
        if found is None:
            missing.append(name)
            continue
        text = found.group(1)
        figures[name] = float(text) if "." in text else int(text)
    return figures, missing


def run_one(name: str, redis_url: str) -> dict:
    chapter_name, command, needs, patterns, timeout = DRILLS[name]
    say(f"\n[drills] {chapter_name}$ {command}", "bold")
    harness.flush_databases(redis_url, walkthrough.load(harness.ROOT / chapter_name).databases)
    with runner.ChapterRun(walkthrough.load(harness.ROOT / chapter_name), redis_url) as run:
        for process in needs:  # the Procfile processes the drill needs, each until ready
            say(f"  [{process}] $ {run.chapter.processes[process]}", "cyan")
            run.start(process, timeout=60)
        for step in BEFORE.get(name, []):
            say(f"  $ {step}", "cyan")
            ready = run.run(step, timeout=timeout)
            if ready.returncode != 0:
                say(f"    [!] {step}: exited {ready.returncode}", "red")
        done = run.run(command, timeout=timeout)
    for line in done.output.splitlines()[-12:]:
        say(f"    {line}", "dim")
    figures, missing = parse(done.output, patterns)
    problem = ""
    if done.timed_out:
        problem = f"did not finish within {timeout} s"
    elif done.returncode != 0:
        problem = f"exited {done.returncode}"
    elif missing:
        problem = f"its output no longer shows {', '.join(missing)} (bench/drills.py's patterns)"
    if problem:
        say(f"    [!] {command}: {problem}", "red")
    return {"chapter": chapter_name, "command": command, "with": list(needs),
            "seconds": round(done.seconds, 1), "exit_code": done.returncode,
            "problem": problem, **figures}


def run(redis_url: str, names: list[str], out: Path, note: str = "") -> dict:
    machine = harness.machine(redis_url) | {"note": note}
    path = out / "drills.json"
    # a run of some drills keeps the others' last figures
    data = json.loads(path.read_text()) if path.exists() else {"runs": {}}
    for name in names:
        data["runs"][name] = run_one(name, redis_url) | {"date": machine["date"]}
    machine["load_end"] = harness.load_now()
    data["machine"] = machine
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    say(f"[drills] wrote {path}", "dim")
    data["ok"] = not any(data["runs"][name]["problem"] for name in names)
    return data


def section(data: dict) -> str:
    """bench/RESULTS.md's section for the drills, from drills.json alone."""
    rows = []
    for name, r in data["runs"].items():
        figures = ", ".join(f"{k} {v}" for k, v in r.items() if k in DRILLS[name][3])
        rows.append([f"{r['chapter']}: `{r['command']}`"
                     + (f" (with the {' and '.join(r['with'])})" if r["with"] else ""),
                     r["date"], figures or "—", r["problem"] or "none"])
    return "\n".join([
        "## The chapters' drills: the counts the READMEs quote",
        "",
        f"Last run: {harness.machine_line(data['machine'])}.",
        "",
        "[`bench/drills.py`](drills.py) runs each command as the chapter's README shows it, in a "
        "scratch copy of the chapter folder, on the benchmark's private Redis, and keeps the "
        "figures it prints (the patterns are in `DRILLS`).",
        "",
        harness.markdown_table(["command", "run", "figures", "problem"], rows),
    ])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.drills", description=__doc__.split("\n")[0])
    p.add_argument("--only", action="append", metavar="NAME_OR_CHAPTER",
                   help=f"one of {', '.join(DRILLS)}, or a chapter number such as 06 (repeatable)")
    p.add_argument("--out", type=Path, default=harness.RESULTS_DIR,
                   help="folder for drills.json (default bench/results)")
    p.add_argument("--note", default="", help="a remark recorded with the figures")
    args = p.parse_args(argv)
    names = [name for name, spec in DRILLS.items()
             if not args.only or name in args.only or spec[0][:2] in args.only]
    if not names:
        p.error(f"nothing matches {args.only}; choose from {', '.join(DRILLS)} or a chapter number")
    return harness.run_session("drills", lambda url: run(url, names, args.out, args.note)["ok"])


if __name__ == "__main__":
    sys.exit(main())
