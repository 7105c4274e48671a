"""`make bench`: every benchmark and the chapters' drills, one after another, on one private Redis.

    python -m bench                  the full sizes (a few minutes on two cores)
    python -m bench --quick          reduced sizes
    python -m bench --only latency   one benchmark (pools, latency, cache or drills)
    python -m bench --quick --out /tmp/b --results-md /tmp/b/RESULTS.md
                                     a try-out that leaves the recorded figures alone

Each benchmark prints a narrated table and writes its raw figures (JSON), a PNG chart and
a Markdown table into --out (default bench/results/), and rewrites its section of
--results-md. When --out is bench/results, every figure the READMEs quote is then rendered
again from those files (bench/figures.py). Sizes of one benchmark: `python -m bench.pools
--help`, `python -m bench.latency --help`, `python -m bench.cache --help`.
"""

from __future__ import annotations

import argparse
import sys
import time

from bench import cache, drills, figures, harness, latency, pools
from bench.harness import console, say

BENCHMARKS = ["pools", "latency", "cache", "drills"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="reduced sizes")
    p.add_argument("--only", choices=BENCHMARKS, action="append",
                   help="run only this benchmark (repeatable)")
    harness.add_output_arguments(p, "NAME")
    args = p.parse_args(argv)
    wanted = args.only or BENCHMARKS
    results_md = None if args.no_record else args.results_md
    started = time.monotonic()
    ran = []

    def body(redis_url: str) -> bool:
        ran.append(True)
        ok = True
        if "pools" in wanted:
            console.rule("[bold]bench/pools.py[/bold]: the same jobs on every worker pool")
            sizes = dict(pools.QUICK if args.quick else pools.FULL)
            result = pools.run(redis_url, sizes, pools.POOLS, args.out, results_md, args.quick,
                               args.note)
            ok &= all(row["seconds"] for row in result["rows"])
        if "latency" in wanted:
            console.rule("[bold]bench/latency.py[/bold]: a no-op task next to Redis itself")
            sizes = dict(latency.QUICK if args.quick else latency.FULL)
            result = latency.run(redis_url, sizes, "prefork", args.out, results_md, args.quick,
                                 args.note)
            ok &= result["counts_ok"]
        if "cache" in wanted:
            console.rule("[bold]bench/cache.py[/bold]: chapter 05's banner API with and without "
                         "its cache")
            sizes = dict(cache.QUICK if args.quick else cache.FULL)
            result = cache.run(redis_url, sizes, args.out, results_md, args.quick, args.note)
            ok &= result["ok"]
        if "drills" in wanted:
            console.rule("[bold]bench/drills.py[/bold]: the chapters' drills, their counts recorded")
            ok &= drills.run(redis_url, list(drills.DRILLS), args.out, args.note)["ok"]
        return ok

    code = harness.run_session("bench", body)
    if ran and code in (0, 1):
        if args.out.resolve() == harness.RESULTS_DIR.resolve():
            for path in figures.rewrite_all(args.out):
                say(f"[bench] rendered the figures in {path.relative_to(harness.ROOT)} again "
                    "from bench/results", "dim")
        else:
            say(f"[bench] the READMEs' figures come from bench/results only; this run's are in "
                f"{args.out}", "dim")
        where = f"; figures recorded in {results_md}" if results_md else ""
        say(f"[bench] done in {time.monotonic() - started:.0f} s{where}"
            + ("" if code == 0 else " (with problems: see above)"), "bold")
    return code


if __name__ == "__main__":
    sys.exit(main())
