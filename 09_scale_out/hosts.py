"""Several hosts on one machine: Linux network namespaces, joined by one switch.

    from hosts import Network
    with Network(["a", "b", "c"]) as net:       # three hosts: 198.18.0.1, .2, .3
        net.enter("a")                            # this script now runs on host a
        redis = net.start("a", ["redis-server", "--bind", net.address("a"), ...])
        worker = net.start("b", ["celery", "-A", "celery_task", "worker", ...])
        net.cut("c")                              # host c's cable pulled out
    # every process, namespace and link is gone here, also after Ctrl-C or an error

    python hosts.py clean     removes what a killed run (kill -9) may have left behind

What a host is here: a network namespace (`ip netns add`), an isolated network stack with
its own interfaces, addresses, ports and loopback. Each host gets one end of a veth pair
(a virtual cable) with an address from 198.18.0.0/24, a range set aside for tests
(RFC 2544) that no real network uses; the other ends plug into a bridge (a virtual switch)
inside a namespace of its own. The machine's own network never sees these addresses, and
a Redis on port 6379 inside host a is not the Redis on your machine's port 6379.

Making namespaces needs root on Linux. Where that is not possible (macOS, WSL without root,
a container without CAP_SYS_ADMIN), or with LOOPBACK=1 in the environment, or with
Network(loopback=True), every "host" runs on 127.0.0.1,
each server on a port of its own, and "cutting a host off" stops its processes (SIGSTOP):
like a pulled cable, they hold their tasks without a word until they are resumed.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

CLONE_NEWNET = 0x40000000  # setns(2): join a network namespace
PREFIX = "cbri"  # celery-by-running-it: every namespace and link of this chapter starts so
SUBNET = "198.18.0"


def run_ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10, check=check)


def namespaces_possible() -> str:
    """'' when this machine can make network namespaces, else why not (one short reason)."""
    if not sys.platform.startswith("linux"):
        return f"network namespaces are Linux only (this is {sys.platform})"
    if os.geteuid() != 0:
        return "making network namespaces needs root (run it with sudo, or as root)"
    if shutil.which("ip") is None:
        return "the `ip` command is missing (Debian/Ubuntu: apt-get install iproute2)"
    probe = f"{PREFIX}{os.getpid()}-probe"
    made = run_ip("netns", "add", probe, check=False)
    if made.returncode != 0:
        return f"`ip netns add` failed: {made.stderr.strip() or made.stdout.strip()}"
    run_ip("netns", "delete", probe, check=False)
    return ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Network:
    """Hosts named by `names`, as namespaces (or on loopback); see the module docstring."""

    def __init__(self, names: list[str], *, loopback: bool | None = None):
        if loopback is None and os.environ.get("LOOPBACK") == "1":
            loopback = True  # LOOPBACK=1 python spread.py: what a machine without root sees
        self.why_loopback = namespaces_possible() if loopback is None else (
            "LOOPBACK=1 asked for it" if loopback else "")
        self.loopback = bool(self.why_loopback)
        self.names = list(names)
        self.tag = f"{PREFIX}{os.getpid()}"  # veth names may have 15 characters: cbri4194304bs
        self.procs: dict[str, list[subprocess.Popen]] = {name: [] for name in names}
        self.stopped: set[str] = set()
        self.ports: dict[str, int] = {}
        self.home: int | None = None  # this process's own network namespace, while away

    def enter(self, name: str) -> None:
        """Move this process onto host `name`: from now on it connects from there (its
        children too, unless started on another host). close() brings it back."""
        if self.loopback:
            return
        if self.home is None:
            self.home = os.open("/proc/self/ns/net", os.O_RDONLY)
        join(f"/var/run/netns/{self.namespace(name)}")

    def leave(self) -> None:
        if self.home is not None:
            join(self.home)
            os.close(self.home)
            self.home = None

    # --- naming -------------------------------------------------------------------------
    def namespace(self, name: str) -> str:
        return f"{self.tag}-{name}"

    def address(self, name: str) -> str:
        """The host's address: 198.18.0.<n> in a namespace, 127.0.0.1 on loopback."""
        return "127.0.0.1" if self.loopback else f"{SUBNET}.{self.names.index(name) + 1}"

    def port(self, name: str, default: int) -> int:
        """The port a server on host `name` listens on: `default` inside a namespace (each
        host has all of its ports), a free one on loopback (all hosts share 127.0.0.1)."""
        if not self.loopback:
            return default
        return self.ports.setdefault(f"{name}:{default}", free_port())

    def describe(self) -> str:
        if self.loopback:
            return f"hosts {', '.join(self.names)} all on 127.0.0.1 (no namespaces: {self.why_loopback})"
        return "hosts " + ", ".join(f"{name} {self.address(name)}" for name in self.names) + \
            " (network namespaces, one switch)"

    def gone(self) -> str:
        """What close() removed, in a line (for the scripts' last words)."""
        if self.loopback:
            return "every process of this run is stopped"
        left = [ns for ns in run_ip("netns", "list", check=False).stdout.split("\n")
                if ns.startswith(self.tag)]
        return ("every namespace, link and process of this run is gone" if not left
                else f"[!] namespaces still there: {' '.join(left)}")

    # --- up and down ----------------------------------------------------------------------
    def __enter__(self) -> "Network":
        previous = signal.getsignal(signal.SIGTERM)
        if previous in (signal.SIG_DFL, None):  # a SIGTERM (the tour stopping) cleans up too
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        if not self.loopback:
            try:
                self._build()
            except BaseException:
                self.close()
                raise
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def _build(self) -> None:
        switch = self.namespace("switch")
        run_ip("netns", "add", switch)
        run_ip("-n", switch, "link", "add", "br0", "type", "bridge")
        run_ip("-n", switch, "link", "set", "br0", "up")
        for index, name in enumerate(self.names, 1):
            ns, host_end, switch_end = self.namespace(name), f"{self.tag}{name}", f"{self.tag}{name}s"
            run_ip("netns", "add", ns)
            run_ip("link", "add", host_end, "netns", ns, "type", "veth", "peer", "name",
                   switch_end, "netns", switch)
            run_ip("-n", switch, "link", "set", switch_end, "master", "br0", "up")
            run_ip("-n", ns, "addr", "add", f"{SUBNET}.{index}/24", "dev", host_end)
            run_ip("-n", ns, "link", "set", host_end, "up")
            run_ip("-n", ns, "link", "set", "lo", "up")

    def close(self) -> None:
        """Stop every process this network started, then remove its namespaces and links."""
        for name, procs in self.procs.items():
            for proc in procs:
                if proc.poll() is None:
                    # a host still cut off is gone for good: its processes are killed (a warm
                    # shutdown would wait for a Redis it cannot reach); the others stop warm
                    os.killpg(proc.pid, signal.SIGKILL) if name in self.stopped \
                        else proc.send_signal(signal.SIGTERM)
        self.stopped.clear()
        deadline = time.monotonic() + 10
        for procs in self.procs.values():
            for proc in procs:
                try:
                    proc.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(5)
        self.leave()
        if not self.loopback:
            remove_namespaces(self.tag)

    # --- processes ----------------------------------------------------------------------
    def start(self, name: str, command: list[str], *, env: dict | None = None,
              log=None) -> subprocess.Popen:
        """Start command on host `name` (inside its namespace), in a process group of its
        own; its output goes to `log` (a file) or nowhere."""
        if not self.loopback:
            command = ["ip", "netns", "exec", self.namespace(name), *command]
        proc = subprocess.Popen(command, env={**os.environ, **(env or {})},
                                stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.procs[name].append(proc)
        return proc

    def run(self, name: str, command: list[str], *, env: dict | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess:
        """Run command on host `name` to completion; its output is returned."""
        if not self.loopback:
            command = ["ip", "netns", "exec", self.namespace(name), *command]
        return subprocess.run(command, env={**os.environ, **(env or {})}, capture_output=True,
                              text=True, timeout=timeout)

    # --- failures -------------------------------------------------------------------------
    def cut(self, name: str) -> None:
        """Pull host `name`'s cable out: its link goes down (on loopback: its processes stop)."""
        if self.loopback:
            for proc in self.procs[name]:
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGSTOP)
        else:
            run_ip("-n", self.namespace(name), "link", "set", f"{self.tag}{name}", "down")
        self.stopped.add(name)

    def resume(self, name: str) -> None:
        if name not in self.stopped:
            return
        self.stopped.discard(name)
        if self.loopback:
            for proc in self.procs[name]:
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGCONT)
        else:
            run_ip("-n", self.namespace(name), "link", "set", f"{self.tag}{name}", "up", check=False)


def join(namespace) -> None:
    """setns(2) into a network namespace: a path under /var/run/netns, or an open fd."""
    fd = os.open(namespace, os.O_RDONLY) if isinstance(namespace, str) else namespace
    try:
        if ctypes.CDLL(None, use_errno=True).setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns({namespace!r}) failed")
    finally:
        if isinstance(namespace, str):
            os.close(fd)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def remove_namespaces(tag: str = PREFIX, *, orphans_only: bool = False) -> list[str]:
    """Kill the processes in, and delete, every namespace whose name starts with tag; with
    orphans_only, only those whose run (the pid in cbri<pid>-<host>) has ended."""
    listed = run_ip("netns", "list", check=False).stdout.split("\n")
    found = [line.split()[0] for line in listed if line.startswith(tag)]
    if orphans_only:
        owners = {ns: ns[len(PREFIX):].split("-")[0] for ns in found}
        found = [ns for ns, owner in owners.items() if not (owner.isdigit() and alive(int(owner)))]
    for ns in found:
        for pid in run_ip("netns", "pids", ns, check=False).stdout.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        run_ip("netns", "delete", ns, check=False)  # its veth ends go with it
    return found


if __name__ == "__main__":
    if sys.argv[1:] != ["clean"]:
        sys.exit("usage: python hosts.py clean")
    if namespaces_possible():
        sys.exit(f"[!] nothing to clean: {namespaces_possible()}")
    removed = remove_namespaces(orphans_only=True)  # a run still going keeps its hosts
    print(f"[1] removed {len(removed)} namespace(s) left by an earlier run: {' '.join(removed) or 'none'}")
