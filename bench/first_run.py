"""How long does a newcomer wait? From `make tour CH=01` in a fresh clone to the first result.

    python -m bench.first_run                  # pip's download cache as this machine has it
    python -m bench.first_run --without-cache  # and once more with PIP_NO_CACHE_DIR=1

Two measurements, both from scratch in a temporary folder:
  1. the install alone: a fresh venv, `pip install -r requirements.txt`, once as pip does
     it by default (compiling every module) and once with `--no-compile` (the Makefile's
     choice), timed;
  2. the newcomer's wait: a clone of this repository (its committed HEAD), no `.venv`, then
     `AUTO=1 make tour CH=01`, timed from the moment the command starts:
       venv ready      the tour's first line (`[redis] using ...`, after .venv is built)
       first result    the line `add.apply_async(args=(2, 3)) -> 5`
       tour done       the command's exit
The tour is given a private redis-server (REDIS_URL) started here on a free port, so the
run never meets a Redis on 6379. The figures go to bench/results/first_run.json, and
`python -m bench.figures` renders bench/RESULTS.md's "First run" section from that file.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import harness
from tour.redis_server import RedisServer

ROOT = harness.ROOT
FIRST_RESULT = "add.apply_async(args=(2, 3)) -> 5"
PIP = ["-m", "pip", "install", "--quiet", "--disable-pip-version-check"]


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "REDIS_URL", "PYTHONPATH") and not k.startswith("COVERAGE_")}
    return {**env, **extra}


def time_install(compile_modules: bool, extra_env: dict[str, str]) -> float:
    """Seconds of `pip install -r requirements.txt` into a fresh venv."""
    with tempfile.TemporaryDirectory(prefix="first-run-venv-") as folder:
        venv = Path(folder) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        command = [str(venv / "bin" / "python"), *PIP, "-r", str(ROOT / "requirements.txt")]
        if not compile_modules:
            command.insert(-2, "--no-compile")
        started = time.monotonic()
        subprocess.run(command, check=True, env=clean_env(extra_env), timeout=900,
                       stdout=subprocess.DEVNULL)
        return time.monotonic() - started


def time_tour(redis_url: str, extra_env: dict[str, str]) -> dict:
    with tempfile.TemporaryDirectory(prefix="first-run-") as folder:
        repo = Path(folder) / "repo"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(repo)], check=True)
        env = clean_env({"AUTO": "1", "REDIS_URL": redis_url, **extra_env})
        marks: dict = {}
        started = time.monotonic()
        proc = subprocess.Popen(["make", "tour", "CH=01"], cwd=repo, env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert proc.stdout
        for line in proc.stdout:
            now = time.monotonic() - started
            if line.startswith("[redis] using") and "venv_ready" not in marks:
                marks["venv_ready"] = now
            if FIRST_RESULT in line and "first_result" not in marks:
                marks["first_result"] = now
        proc.wait(900)
        marks["tour_done"] = time.monotonic() - started
        marks["exit_code"] = proc.returncode
        return marks


def measure(without_cache: bool) -> dict:
    variants = [("cache", {})] + ([("no-cache", {"PIP_NO_CACHE_DIR": "1"})] if without_cache else [])
    machine = harness.machine_basics()
    install, tours = [], []
    with tempfile.TemporaryDirectory(prefix="first-run-redis-") as folder:
        server = RedisServer.start(Path(folder), appendonly=False)
        try:
            for pip_cache, env in variants:
                row = {"pip_cache": pip_cache}
                for key, compile_modules in (("compile", True), ("no_compile", False)):
                    row[key] = time_install(compile_modules, env)
                    print(f"[first run] pip install -r requirements.txt, {key}, pip {pip_cache}: "
                          f"{row[key]:.1f} s", flush=True)
                install.append(row)
                marks = time_tour(server.url, env)
                tours.append({"pip_cache": pip_cache, **marks})
                print(f"[first run] make tour CH=01, pip {pip_cache}: " + ", ".join(
                    f"{k} {v:.1f} s" if isinstance(v, float) else f"{k} {v}"
                    for k, v in marks.items()), flush=True)
        finally:
            server.stop()
    machine["load_end"] = harness.load_now()
    return {"machine": machine, "install": install, "tour": tours,
            "index": pip_index(), "redis": "a private redis-server on a free port (REDIS_URL)"}


def pip_index() -> str:
    """Where pip downloads from here (an index mirror changes the figures; say which)."""
    done = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True,
                          text=True)
    lines = [line for line in done.stdout.splitlines() if "index-url" in line]
    return "; ".join(lines) or "PyPI (pip's default index)"


# --- the section of bench/RESULTS.md ----------------------------------------------------

LABEL = {"cache": "pip's cache as this machine had it", "no-cache": "`PIP_NO_CACHE_DIR=1`"}


def section(data: dict) -> str:
    """bench/RESULTS.md's "First run" section, from first_run.json alone."""
    m = data["machine"]
    install = harness.markdown_table(
        ["pip", "compiling every module (pip's default)", "`--no-compile` (the Makefile)",
         "saved"],
        [[LABEL[r["pip_cache"]], f"{r['compile']:.1f} s", f"{r['no_compile']:.1f} s",
          f"{1 - r['no_compile'] / r['compile']:.0%}"] for r in data["install"]],
        right={1, 2, 3})
    tour = harness.markdown_table(
        ["pip", "`.venv` ready", "first result (`add(2, 3) -> 5`)", "chapter 01 done",
         "exit code"],
        [[LABEL[r["pip_cache"]], secs(r.get("venv_ready")), secs(r.get("first_result")),
          secs(r["tour_done"]), str(r["exit_code"])] for r in data["tour"]],
        right={1, 2, 3, 4})
    return "\n".join([
        "## First run: from `make tour CH=01` to the first result",
        "",
        f"Last run: {m['date']} · {m['cores']} cores ({m['cpu']}), load average {m['load']} at "
        f"the start, {m['load_end']} at the end · {m['os']} · Python {m['python']} · pip index: "
        f"{data['index']}.",
        "",
        "Measured by [`bench/first_run.py`](first_run.py) (`.venv/bin/python -m "
        "bench.first_run`), in temporary folders. The install alone: a fresh venv and `pip "
        "install -r requirements.txt`, with and without `--no-compile`:",
        "",
        install,
        "A newcomer's wait: a fresh clone, no `.venv`, then `AUTO=1 make tour CH=01` (which "
        "installs with `--no-compile`), timed from the moment the command starts; the tour "
        f"used {data['redis']}:",
        "",
        tour,
        "`make tour` installs only `requirements.txt`; the test and benchmark packages "
        "(`requirements-dev.txt`: pytest, Playwright, matplotlib) wait for `make test`.",
    ])


def secs(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.first_run", description=__doc__.split("\n")[0])
    p.add_argument("--without-cache", action="store_true",
                   help="measure a second time with PIP_NO_CACHE_DIR=1 (downloads every wheel)")
    p.add_argument("--out", type=Path, default=harness.RESULTS_DIR,
                   help="folder for first_run.json (default bench/results)")
    args = p.parse_args(argv)
    data = measure(args.without_cache)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "first_run.json"
    path.write_text(json.dumps(data, indent=2) + "\n")
    print(f"[first run] wrote {path}")
    print(section(data))
    if args.out.resolve() == harness.RESULTS_DIR.resolve():
        from bench import figures

        for changed in figures.rewrite_all(harness.RESULTS_DIR):
            print(f"[first run] rewrote the figures in {changed.relative_to(ROOT)}")
    return 0 if all(r["exit_code"] == 0 for r in data["tour"]) else 1


if __name__ == "__main__":
    sys.exit(main())
