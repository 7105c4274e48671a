"""A private RabbitMQ node for one run, and a private redis-server beside it.

    from rabbitmq_node import RabbitNode, private_redis
    with RabbitNode() as node:                   # started; node.url is amqp://guest:guest@...
        print(node.started_in, node.url)         # seconds from launch to the first AMQP login
        node.ctl("eval", "application:get_env(rabbit, consumer_timeout).")
    # stopped (rabbitmqctl stop, then the process group), its epmd stopped, its folder gone

Everything about the node is its own, so a RabbitMQ the machine already runs (port 5672,
epmd on 4369, /var/lib/rabbitmq) is never touched:
- node name cbri-<pid>@localhost, its AMQP port, its distribution port (what rabbitmqctl
  talks to) and its epmd port (ERL_EPMD_PORT): free ports on 127.0.0.1;
- its config, Erlang cookie, mnesia database, logs, plugins and pid file in one temporary
  folder (RABBITMQ_CONF_ENV_FILE points there too: /etc/rabbitmq is not read);
- an epmd this module starts itself (in the foreground, so it is stopped by pid afterwards;
  Erlang would otherwise start a daemon of its own that outlives the node).

Debian's /usr/sbin/rabbitmq-server is a wrapper that switches to the `rabbitmq` user (su) and
sends the output to /var/log/rabbitmq. The real start script behind it,
/usr/lib/rabbitmq/bin/rabbitmq-server, runs as whoever calls it (root included) with the
folders this module made; Homebrew's `rabbitmq-server` is that real script already.
Loopback only: the `guest` user may log in only from 127.0.0.1 (loopback_users), which is
what a private test node wants anyway, and it works the same without root.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psutil

SERVER_PATHS = ("/usr/lib/rabbitmq/bin",    # Debian, Ubuntu: the real scripts, no user switch
                "/usr/local/sbin", "/opt/homebrew/sbin", "/usr/local/opt/rabbitmq/sbin")
MISSING_RABBITMQ = ("[!] RabbitMQ is not installed: install Debian's package (sudo apt-get install "
                    "rabbitmq-server; macOS: brew install rabbitmq), then run this again")
MISSING_REDIS = ("[!] redis-server is not installed: install Debian's package (sudo apt-get "
                 "install redis-server; macOS: brew install redis), then run this again")
PREFIX = "cbri-rabbitmq-"  # the node's temporary folder: /tmp/cbri-rabbitmq-XXXX


class Missing(RuntimeError):
    """A server this module needs is not installed: the message names the package."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rabbitmq_bin() -> Path:
    """The folder of the real rabbitmq-server / rabbitmqctl scripts."""
    for folder in SERVER_PATHS:
        if (Path(folder) / "rabbitmq-server").exists() and (Path(folder) / "rabbitmqctl").exists():
            return Path(folder)
    found = shutil.which("rabbitmq-server")
    if found and Path(found).resolve().name == "rabbitmq-server" and "/usr/sbin" not in found:
        return Path(found).resolve().parent
    raise Missing(MISSING_RABBITMQ)


def stop_group(proc: subprocess.Popen, sig=signal.SIGTERM, timeout: float = 10) -> None:
    """Signal proc, wait up to timeout, then kill its whole process group."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # anything left in its group (start_new_session)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        pass


def rss_mib(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / 2**20


class RabbitNode:
    """A RabbitMQ node of its own: start() (or `with`), then url, started_in, ctl(), stop()."""

    def __init__(self, start_timeout: float = 60, config: str = ""):
        self.start_timeout = start_timeout
        self.config = config  # more lines for rabbitmq.conf
        self.bin = rabbitmq_bin()
        self.name = f"cbri-{os.getpid()}@localhost"
        self.folder: Path | None = None
        self.server: subprocess.Popen | None = None
        self.epmd: subprocess.Popen | None = None
        self.started_in = 0.0
        self.version = "?"

    # --- what the node is -------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    def env(self) -> dict[str, str]:
        """The environment rabbitmq-server and rabbitmqctl get: everything points here."""
        folder = self.folder
        loopback = "-kernel inet_dist_use_interface {127,0,0,1}"  # distribution on loopback only
        return {**os.environ,
                "HOME": str(folder),  # the Erlang cookie, .erlang.cookie, is made here
                "RABBITMQ_NODENAME": self.name,
                "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
                "RABBITMQ_NODE_PORT": str(self.port),
                "RABBITMQ_DIST_PORT": str(self.dist_port),
                "ERL_EPMD_PORT": str(self.epmd_port),
                "ERL_EPMD_ADDRESS": "127.0.0.1",
                "RABBITMQ_CTL_DIST_PORT_MIN": str(self.ctl_port),
                "RABBITMQ_CTL_DIST_PORT_MAX": str(self.ctl_port),
                "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": loopback,
                "RABBITMQ_CTL_ERL_ARGS": loopback,
                "RABBITMQ_CONF_ENV_FILE": str(folder / "rabbitmq-env.conf"),
                "RABBITMQ_CONFIG_FILE": str(folder / "rabbitmq.conf"),
                "RABBITMQ_ADVANCED_CONFIG_FILE": str(folder / "advanced.config"),
                "RABBITMQ_ENABLED_PLUGINS_FILE": str(folder / "enabled_plugins"),
                "RABBITMQ_PLUGINS_EXPAND_DIR": str(folder / "plugins"),
                "RABBITMQ_MNESIA_BASE": str(folder / "mnesia"),
                "RABBITMQ_LOG_BASE": str(folder / "log"),
                "RABBITMQ_PID_FILE": str(folder / "rabbitmq.pid"),
                "RABBITMQ_LOGS": "-"}  # the log to standard output: folder/server.log

    # --- up -----------------------------------------------------------------------------
    def __enter__(self) -> "RabbitNode":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()

    def start(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix=PREFIX))
        self.port, self.dist_port, self.epmd_port, self.ctl_port = (free_port() for _ in range(4))
        (self.folder / "rabbitmq-env.conf").write_text("")
        (self.folder / "enabled_plugins").write_text("[].\n")  # no plugins: the bare broker
        (self.folder / "rabbitmq.conf").write_text(
            f"listeners.tcp.1 = 127.0.0.1:{self.port}\n"
            "loopback_users.guest = true\n"  # RabbitMQ's default, said out loud
            + self.config)
        env = self.env()
        launched = time.monotonic()
        self.epmd = subprocess.Popen(["epmd", "-port", str(self.epmd_port), "-address", "127.0.0.1"],
                                     env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        with open(self.folder / "server.log", "wb") as log:
            self.server = subprocess.Popen([str(self.bin / "rabbitmq-server")], env=env,
                                           cwd=self.folder, stdout=log, stderr=subprocess.STDOUT,
                                           stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = launched + self.start_timeout
        while not self.answers():
            if self.server.poll() is not None:
                raise RuntimeError(f"RabbitMQ exited (code {self.server.returncode}) while starting: "
                                   f"{self.last_log_line()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"RabbitMQ did not answer on 127.0.0.1:{self.port} within "
                                   f"{self.start_timeout:.0f} s: {self.last_log_line()}")
            time.sleep(0.1)
        self.started_in = time.monotonic() - launched

    def answers(self) -> bool:
        """True once an AMQP login as guest works (the broker has booted, not just listened)."""
        import amqp  # py-amqp, kombu's AMQP client

        try:
            connection = amqp.Connection(f"127.0.0.1:{self.port}", userid="guest", password="guest",
                                         connect_timeout=1)
            connection.connect()
            self.version = connection.server_properties.get("version", "?")
            connection.close()
            return True
        except Exception:  # refused, reset, not booted yet
            return False

    def last_log_line(self) -> str:
        try:
            lines = (self.folder / "server.log").read_text(errors="replace").strip().splitlines()
        except OSError:
            lines = []
        return lines[-1] if lines else "(no output)"

    # --- while it runs --------------------------------------------------------------------
    def ctl(self, *args: str, timeout: float = 20) -> str:
        """rabbitmqctl <args> against this node: its output."""
        done = subprocess.run([str(self.bin / "rabbitmqctl"), "-q", *args], env=self.env(),
                              capture_output=True, text=True, timeout=timeout)
        return (done.stdout or done.stderr).strip()

    def beam(self) -> psutil.Process | None:
        """The Erlang VM (beam.smp) that is the node, below the start script."""
        if self.server is None or self.server.poll() is not None:
            return None
        try:
            for child in psutil.Process(self.server.pid).children(recursive=True):
                if child.name().startswith("beam"):
                    return child
        except psutil.NoSuchProcess:
            pass
        return None

    def rss_mib(self) -> float:
        beam = self.beam()
        return rss_mib(beam.pid) if beam else 0.0

    # --- down -----------------------------------------------------------------------------
    def stop(self) -> None:
        """rabbitmqctl stop (a clean shutdown), then the process group, epmd, the folder."""
        if self.server is not None:
            if self.server.poll() is None:
                try:
                    self.ctl("stop", timeout=15)
                except (subprocess.TimeoutExpired, OSError):
                    pass
            stop_group(self.server, timeout=15)
        if self.epmd is not None:
            stop_group(self.epmd, timeout=5)
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
        self.server = self.epmd = None


class private_redis:
    """A redis-server of its own on a free loopback port, no files kept: `with private_redis()
    as redis: redis.url`, plus started_in (seconds to the first PONG) and rss_mib()."""

    def __init__(self, start_timeout: float = 10):
        if shutil.which("redis-server") is None:
            raise Missing(MISSING_REDIS)
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen | None = None
        self.folder: Path | None = None
        self.started_in = 0.0
        self.version = "?"

    def __enter__(self) -> "private_redis":
        import redis

        self.folder = Path(tempfile.mkdtemp(prefix="cbri-redis-"))
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}"
        launched = time.monotonic()
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5, socket_timeout=1)
        try:
            self._wait(client, launched)
        except BaseException:  # a timeout, or Ctrl-C while it starts: nothing stays behind
            self.__exit__()
            raise
        finally:
            client.close()
        self.started_in = time.monotonic() - launched
        return self

    def _wait(self, client, launched: float) -> None:
        import redis

        while True:
            try:
                client.ping()
                self.version = client.info("server")["redis_version"]
                return
            except redis.RedisError:
                if self.proc.poll() is not None or time.monotonic() > launched + self.start_timeout:
                    raise RuntimeError(f"redis-server did not answer on 127.0.0.1:{self.port} "
                                       f"within {self.start_timeout:.0f} s") from None
                time.sleep(0.02)

    def rss_mib(self) -> float:
        return rss_mib(self.proc.pid) if self.proc and self.proc.poll() is None else 0.0

    def __exit__(self, *_exc) -> None:
        if self.proc is not None:
            stop_group(self.proc, timeout=5)
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
        self.proc = None
