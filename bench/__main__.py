"""`make bench`: every benchmark, one after another, on one private Redis.

    python -m bench                  the full sizes (a few minutes on two cores)
    python -m bench --quick          reduced sizes (about half a minute)
    python -m bench --only latency   one benchmark (pools, latency or cache)

Each benchmark prints a narrated table, writes a PNG chart, a Markdown table and the raw
figures (JSON) into bench/results/, and rewrites its section of bench/RESULTS.md.
Sizes of one benchmark: `python -m bench.pools --help`, `python -m bench.latency --help`,
`python -m bench.cache --help`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bench import cache, harness, latency, pools
from bench.harness import console, say


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="reduced sizes")
    p.add_argument("--only", choices=["pools", "latency", "cache"], action="append",
                   help="run only this benchmark (repeatable)")
    p.add_argument("--out", type=Path, default=harness.RESULTS_DIR,
                   help="folder for the charts, tables and JSON (default bench/results)")
    p.add_argument("--results-md", type=Path, default=harness.RESULTS_MD,
                   help="the results file to update (default bench/RESULTS.md)")
    p.add_argument("--no-record", action="store_true", help="do not touch the results file")
    p.add_argument("--note", default="", help="a remark recorded with the figures "
                   "(e.g. \"other jobs were running\")")
    args = p.parse_args(argv)
    wanted = args.only or ["pools", "latency", "cache"]
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
        return ok

    code = harness.run_session("bench", body)
    if ran and code in (0, 1):
        where = f"; figures recorded in {results_md}" if results_md else ""
        say(f"[bench] done in {time.monotonic() - started:.0f} s{where}"
            + ("" if code == 0 else " (with problems: see above)"), "bold")
    return code


if __name__ == "__main__":
    sys.exit(main())
