"""How long does a newcomer wait? From `make tour CH=01` in a fresh clone to the first result.

    python -m bench.first_run            # with pip's download cache, then without it

Clones this repository (its committed HEAD) into a temporary folder, runs
`AUTO=1 make tour CH=01` there and times, from the moment the command starts:
  - venv ready      the tour's first line (after .venv is created and requirements installed)
  - first result    the line `add.apply_async(args=(2, 3)) -> 5`
  - tour done       the command's exit
once with pip's cache as it is, once with PIP_NO_CACHE_DIR=1. Prints a Markdown table.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def one_run(label: str, extra_env: dict[str, str]) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="first-run-"))
    try:
        subprocess.run(["git", "clone", "-q", str(ROOT), str(folder / "repo")], check=True)
        env = {**os.environ, "AUTO": "1", **extra_env}
        env.pop("VIRTUAL_ENV", None)
        env.pop("REDIS_URL", None)
        started = time.monotonic()
        marks = {}
        proc = subprocess.Popen(["make", "tour", "CH=01"], cwd=folder / "repo", env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in proc.stdout:
            now = time.monotonic() - started
            if "[redis]" in line and "venv ready" not in marks:
                marks["venv ready"] = now
            if "add.apply_async(args=(2, 3)) -> 5" in line and "first result" not in marks:
                marks["first result"] = now
        proc.wait(600)
        marks["tour done"] = time.monotonic() - started
        marks["exit code"] = proc.returncode
        print(f"[{label}] " + ", ".join(f"{k}: {v:.1f} s" if isinstance(v, float) else f"{k}: {v}"
                                        for k, v in marks.items()), flush=True)
        return marks
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    runs = {"pip cache as it is": one_run("with cache", {}),
            "PIP_NO_CACHE_DIR=1": one_run("no cache", {"PIP_NO_CACHE_DIR": "1"})}
    print("\n| pip | venv ready | first result | tour done |\n| --- | ---: | ---: | ---: |")
    for label, m in runs.items():
        print(f"| {label} | {m.get('venv ready', float('nan')):.1f} s | "
              f"{m.get('first result', float('nan')):.1f} s | {m['tour done']:.1f} s |")
    return 0 if all(m["exit code"] == 0 for m in runs.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
