"""What spread.py and cut_off.py share: a Redis on host a and a worker on each other host.

    from cluster import Cluster
    with Cluster(["a", "b", "c"], visibility_timeout=5) as cluster:
        app = cluster.app                          # celery_task.app, pointed at host a's Redis
        cluster.start_worker("b"); cluster.start_worker("c")

The Redis has a password (a new one each run, as a Redis reachable from other hosts must),
and listens on host a's address. This script moves onto host a (hosts.py: Network.enter), so
what it sends leaves from there, like a web server on that host would. The workers run on
hosts b and c as `worker@hostb`, `worker@hostc`, with BROKER_URL and RESULT_BACKEND pointing
at host a: the app itself (celery_task.py) is the same everywhere.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
import tempfile
import time

from hosts import Network

WORKER = [sys.executable, "-m", "celery", "-A", "celery_task", "worker", "-l", "info",
          "-P", "threads"]


class Cluster:
    def __init__(self, hosts: list[str], *, visibility_timeout: int = 3600, concurrency: int = 2):
        if shutil.which("redis-server") is None:
            sys.exit("[!] redis-server is not installed: `make test` installs it (Debian/Ubuntu: "
                     "apt-get install redis-server; macOS: brew install redis)")
        self.net = Network(hosts)
        self.concurrency = concurrency
        self.password = secrets.token_hex(12)
        self.folder = tempfile.mkdtemp(prefix="cbri-")
        self.env = {"VISIBILITY_TIMEOUT": str(visibility_timeout)}
        self.logs: dict[str, str] = {}

    def __enter__(self) -> "Cluster":
        net = self.net.__enter__()
        try:
            net.enter("a")
            host, port = net.address("a"), net.port("a", 6379)
            url = f"redis://:{self.password}@{host}:{port}"
            self.env |= {"BROKER_URL": f"{url}/0", "RESULT_BACKEND": f"{url}/1"}
            os.environ.update(self.env)  # before celery_task is imported: the app reads them
            net.start("a", ["redis-server", "--bind", host, "--port", str(port),
                            "--requirepass", self.password, "--save", "", "--appendonly", "no",
                            "--dir", self.folder])
            import celery_task

            self.app = celery_task.app
            self.wait(lambda: self.app.backend.client.ping(), "Redis on host a", 10)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def close(self) -> None:
        self.net.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def start_worker(self, host: str) -> str:
        """A worker on `host`, named worker@host<name>; returns the name once it answers."""
        name = f"worker@host{host}"
        self.logs[name] = os.path.join(self.folder, f"worker-{host}.log")
        self.net.start(host, [*WORKER, "-c", str(self.concurrency), "-n", name,
                              f"--logfile={self.logs[name]}"], env=self.env)
        return name

    def wait_for_workers(self, *names: str, timeout: float = 30) -> None:
        def answered():
            replies = self.app.control.ping(destination=list(names), timeout=1, limit=len(names))
            return {name for reply in replies or [] for name in reply} == set(names)
        self.wait(answered, " and ".join(names), timeout)

    @staticmethod
    def wait(check, what: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if check():
                    return
            except Exception:  # noqa: BLE001 - not up yet
                pass
            time.sleep(0.2)
        sys.exit(f"[!] {what} did not answer within {timeout:.0f} s")
