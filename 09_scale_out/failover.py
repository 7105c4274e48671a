"""Drill: the broker's Redis dies, Redis Sentinel promotes its replica, Celery carries on.

    python failover.py

Three hosts (hosts.py): a Redis primary on host a, its replica on host b (--replicaof), and a
Sentinel on each of a, b and c, watching the primary under the name `chapter09` (quorum 2: two
Sentinels must agree it is down). Every server wants a password generated for this run
(requirepass; masterauth for the replica; `sentinel auth-pass` for the Sentinels). Workers on
b and c and the producer on a find the primary only through the Sentinels:

    BROKER_URL=sentinel://:PW@198.18.0.1:26379/0;sentinel://:PW@198.18.0.2:26379/0;...
    RESULT_BACKEND=sentinel://:PW@198.18.0.1:26379/1;...   SENTINEL_MASTER=chapter09

The producer sends crunch tasks at a steady pace; after a third of them it kills the primary
with SIGKILL. The Sentinels notice (down-after-milliseconds 1000), agree, and promote the
replica; workers and producer ask them again and reconnect. It prints the seconds the producer
had no broker (last send that worked before the kill, first one after), then submitted /
completed / lost / ran twice, counted from the results and from the `runs` hash.
Nothing is left running, also after Ctrl-C. Logs: failover-*.log beside this script.
Without network namespaces (not root, macOS), or with LOOPBACK=1, every server runs on its
own 127.0.0.1 port.
"""

import os
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

import redis

from hosts import Network

MASTER = "chapter09"             # the name the Sentinels know the primary by
TASKS, KILL_AFTER, PACE, SECONDS = 60, 20, 0.05, 0.2
DOWN_AFTER_MS, FAILOVER_TIMEOUT_MS = 1000, 5000
VISIBILITY = 5                   # an unacknowledged task comes back after 5 s, not 1 hour
RESTARTS = 3                     # per worker: what systemd's Restart=always would do
HERE = Path(__file__).resolve().parent
MISSING = ("[!] redis-server is not installed: install Debian's redis-sentinel (sudo apt-get "
           "install redis-server redis-sentinel; macOS: brew install redis), then run this again")


def wait(what, check, timeout, step=0.1):
    """Poll check() until it gives something true; exit with one line after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
        except (redis.RedisError, OSError):
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"[!] no {what} within {timeout:.0f} s: see the failover-*.log files")
        time.sleep(step)


def sentinel_command():
    """How to start a Sentinel: Debian's redis-sentinel, else redis-server --sentinel (the
    same program: redis-server runs as a Sentinel when asked)."""
    if shutil.which("redis-sentinel"):
        return ["redis-sentinel"], "redis-sentinel"
    return ["redis-server"], "redis-server --sentinel"


def start_servers(net, folder, password, log):
    """Primary on a, replica on b, a Sentinel on each host: {role: Popen}, addresses."""
    where = {h: (net.address(h), net.port(h, 6379)) for h in ("a", "b")}
    spots = {h: (net.address(h), net.port(f"s{h}", 26379)) for h in net.names}
    servers = {}
    for host in ("a", "b"):
        address, port = where[host]
        data = folder / f"redis-{host}"
        data.mkdir()
        argv = ["redis-server", "--bind", address, "--port", str(port), "--dir", str(data),
                "--save", "", "--appendonly", "no", "--requirepass", password,
                "--masterauth", password]
        if host == "b":
            argv += ["--replicaof", *map(str, where["a"])]
        servers[host] = net.start(host, argv, log=log(f"redis-{host}"))
    program, shown = sentinel_command()
    primary = where["a"]
    for host, (address, port) in spots.items():
        conf = folder / f"sentinel-{host}.conf"  # a Sentinel rewrites its file: one each
        conf.write_text("\n".join([
            f"bind {address}", f"port {port}", "protected-mode no", f"dir {folder}",
            f"sentinel monitor {MASTER} {primary[0]} {primary[1]} 2",
            f"sentinel auth-pass {MASTER} {password}",
            f"sentinel down-after-milliseconds {MASTER} {DOWN_AFTER_MS}",
            f"sentinel failover-timeout {MASTER} {FAILOVER_TIMEOUT_MS}",
            f"sentinel parallel-syncs {MASTER} 1", ""]))
        servers[f"s{host}"] = net.start(host, [*program, str(conf), *(
            ["--sentinel"] if program == ["redis-server"] else [])], log=log(f"sentinel-{host}"))
    return servers, where, spots, shown


def master_of(address, port):
    """What the Sentinel at address:port says the primary is: ('198.18.0.1', 6379)."""
    client = redis.Redis(address, port, socket_timeout=1, socket_connect_timeout=1)
    try:
        found = client.sentinel_get_master_addr_by_name(MASTER)
        return (found[0].decode() if isinstance(found[0], bytes) else found[0], int(found[1]))
    finally:
        client.close()


def sentinels_ready(spots):
    """Every Sentinel sees the replica and the two other Sentinels (a failover needs both)."""
    for address, port in spots.values():
        client = redis.Redis(address, port, socket_timeout=1, socket_connect_timeout=1)
        try:
            state = client.sentinel_master(MASTER)
        finally:
            client.close()
        if int(state["num-slaves"]) < 1 or int(state["num-other-sentinels"]) < 2:
            return False
    return True


class Workers:
    """The two workers, restarted when one exits (as systemd's Restart=always or chapter 08's
    supervisord would): a worker is a process that may die, the drill counts what it costs."""

    def __init__(self, net, env, log):
        self.net, self.env, self.log = net, env, log
        self.procs, self.restarts = {}, []
        for host in ("b", "c"):
            self.start(host)

    @property
    def nodes(self):
        return [f"worker@host{host}" for host in self.procs]

    def start(self, host, mode="w"):
        self.procs[host] = self.net.start(host, [
            sys.executable, "-m", "celery", "-A", "celery_task", "worker", "-l", "info", "-c", "2",
            "-n", f"worker@host{host}", "--without-mingle", "--without-gossip"],
            env=self.env, log=self.log(f"worker-{host}", mode))

    def check(self):
        """Restart a worker that exited; one line saying why it exited (from its log)."""
        for host, proc in self.procs.items():
            if proc.poll() is None or len(self.restarts) >= RESTARTS * len(self.procs):
                continue
            why = next((line.split("] ", 1)[-1] for line in reversed(
                (HERE / f"failover-worker-{host}.log").read_text(errors="replace").splitlines())
                if "CRITICAL" in line), "no CRITICAL line in its log")
            self.restarts.append((host, why))
            print(f"    worker@host{host} exited (code {proc.returncode}: {why}); started it again",
                  flush=True)
            self.start(host, mode="a")


class Watch(threading.Thread):
    """Asks host c's Sentinel every 0.1 s who the primary is; notes when it changes."""

    def __init__(self, spot, old):
        super().__init__(daemon=True)
        self.spot, self.old, self.new, self.at = spot, old, None, None
        self.done = threading.Event()

    def run(self):
        while not self.done.wait(0.1):
            try:
                now = master_of(*self.spot)
            except (redis.RedisError, OSError):
                continue
            if now != self.old:
                self.new, self.at = now, time.monotonic()
                return


def produce(crunch, ids, primary, workers):
    """Send TASKS tasks at a steady pace; kill the primary after KILL_AFTER. A send that
    fails is tried again (same task id) until it works: the producer's view of the outage."""
    last_ok = first_ok_after = killed_at = None
    failed_sends = 0
    deadline = time.monotonic() + 60
    lag = None
    for number in range(TASKS):
        workers.check()
        if number == KILL_AFTER:
            lag = replica_lag(primary)
            os.kill(primary.pid, signal.SIGKILL)
            killed_at = time.monotonic()
            print(f"[6] sent {KILL_AFTER}: killed the primary redis-server on host a "
                  f"(SIGKILL, pid {primary.pid})", flush=True)
        while True:
            try:
                crunch.apply_async((number, SECONDS), task_id=ids[number], retry=False)
                break
            except Exception as error:  # kombu's OperationalError, redis-py's ConnectionError
                failed_sends += 1
                if time.monotonic() > deadline:
                    raise SystemExit(f"[!] the producer found no broker for 60 s "
                                     f"({type(error).__name__}: {error}): see failover-sentinel-*.log")
                workers.check()
                time.sleep(0.05)
        now = time.monotonic()
        if killed_at is None:
            last_ok = now
        elif first_ok_after is None:
            first_ok_after = now
        time.sleep(PACE)
    return last_ok, first_ok_after, killed_at, failed_sends, lag


def replica_lag(primary):
    """Bytes of the replication stream the primary had written and its replica had not yet
    acknowledged: what a crash at this moment would lose (None if it cannot be asked)."""
    try:
        info = primary.client.info("replication")
    except (redis.RedisError, OSError):
        return None
    acked = [int(v["offset"]) for k, v in info.items() if k.startswith("slave") and isinstance(v, dict)]
    return int(info["master_repl_offset"]) - max(acked) if acked else None


def collect(app, ids, timeout, workers):
    """{task id: result dict} of the tasks that succeeded, polled until all or timeout."""
    backend = app.backend
    keys = [backend.get_key_for_task(task_id) for task_id in ids]
    deadline = time.monotonic() + timeout
    done = {}
    while True:
        try:
            values = backend.client.mget(keys)
        except (redis.RedisError, OSError):
            values = [None] * len(keys)
        for task_id, value in zip(ids, values):
            if value:
                meta = backend.decode_result(value)
                if meta["status"] == "SUCCESS":
                    done[task_id] = meta["result"]
        if len(done) == len(ids) or time.monotonic() > deadline:
            return done
        workers.check()
        time.sleep(0.2)


def drill(net, folder):
    password = secrets.token_hex(16)  # a new one every run, never printed
    logs = []

    def log(name, mode="w"):
        logs.append(open(HERE / f"failover-{name}.log", mode))
        return logs[-1]

    try:
        return run(net, folder, password, log)
    finally:
        for handle in logs:
            handle.close()


def run(net, folder, password, log):
    print(f"[1] {net.describe()}")
    net.enter("a")  # the producer (this script) runs on host a, beside the primary
    servers, where, spots, shown = start_servers(net, folder, password, log)
    (pa, pp), (ra, rp) = where["a"], where["b"]
    primary = redis.Redis(pa, pp, password=password, socket_timeout=2, socket_connect_timeout=2)
    replica = redis.Redis(ra, rp, password=password, socket_timeout=2, socket_connect_timeout=2)
    wait("primary answering", primary.ping, 10)
    wait("replica in sync with the primary",
         lambda: replica.info("replication").get("master_link_status") == "up", 15)
    print(f"[2] Redis primary on host a ({pa}:{pp}), replica on host b ({ra}:{rp}, --replicaof "
          f"{pa} {pp});")
    print("    both want a password made for this run (requirepass, masterauth)")
    wait("Sentinels seeing the replica and each other", lambda: sentinels_ready(spots), 20, 0.2)
    print(f"[3] three Sentinels ({shown}) at {', '.join(f'{h} {a}:{p}' for h, (a, p) in spots.items())}:")
    print(f"    they watch {MASTER} at {pa}:{pp}, quorum 2, down-after-milliseconds {DOWN_AFTER_MS};")
    print("    each sees the replica and the two other Sentinels")

    url = ";".join(f"sentinel://:{password}@{address}:{port}/{{db}}" for address, port in spots.values())
    env = {"BROKER_URL": url.format(db=0), "RESULT_BACKEND": url.format(db=1),
           "SENTINEL_MASTER": MASTER, "VISIBILITY_TIMEOUT": str(VISIBILITY)}
    os.environ.update(env)  # read by celery_task when it is imported, below
    from celery_task import app, crunch

    workers = Workers(net, env, log)
    nodes = workers.nodes

    def answered():
        replies = app.control.ping(destination=nodes, timeout=0.5)
        return len({name for reply in replies for name in reply}) == len(nodes)

    wait("answer from both workers", answered, 40, 0.2)
    shown_url = ";".join(f"sentinel://:**@{address}:{port}/0" for address, port in spots.values())
    print(f"[4] {' and '.join(nodes)} answer; broker and backend through the Sentinels only:")
    print(f"    BROKER_URL={shown_url} SENTINEL_MASTER={MASTER}")

    app.backend.client.delete("runs")
    ids = [f"failover-{number}-{secrets.token_hex(4)}" for number in range(TASKS)]
    watch = Watch(spots["c"], (pa, pp))
    watch.start()
    print(f"[5] sending {TASKS} x crunch(n, {SECONDS}) from host a, one every {PACE} s", flush=True)
    primary_proc = servers["a"]
    primary_proc.client = primary
    last_ok, first_ok, killed_at, failed, lag = produce(crunch, ids, primary_proc, workers)
    watch.join(30)
    watch.done.set()
    if watch.new is None:
        raise SystemExit(f"[!] the Sentinels promoted no replica within 30 s: see "
                         "failover-sentinel-*.log")
    print(f"[7] the Sentinels promoted the replica {watch.new[0]}:{watch.new[1]} "
          f"{watch.at - killed_at:.1f} s after the kill (+switch-master in failover-sentinel-c.log)")
    print(f"[8] the producer had no broker for {first_ok - last_ok:.1f} s (last send before the "
          f"kill -> first after; {failed} tries failed meanwhile and were repeated)")
    print("[9] waiting for every result (at most 30 s)", flush=True)
    done = collect(app, ids, 30, workers)
    runs = {int(k): int(v) for k, v in app.backend.client.hgetall("runs").items()}
    per_node = {node: sum(1 for r in done.values() if r["worker"] == node) for node in nodes}
    twice = sum(1 for n in runs.values() if n > 1)
    lost = TASKS - len(done)
    print(f"[10] submitted {TASKS}, completed {len(done)}, lost {lost}, ran twice {twice} "
          f"({', '.join(f'{n}: {c}' for n, c in per_node.items())})")
    print("[11] replication is asynchronous: the primary answers OK before the replica has the write,")
    print("     so what it acknowledged in its last moments can vanish with it (a task sent, a result stored)")
    before = sum(1 for task_id in ids[:KILL_AFTER] if task_id in done)
    print(f"     here: at the kill {lag if lag is not None else '?'} byte(s) of writes were not yet "
          "confirmed by the replica")
    print(f"     (it confirms once a second); of the {KILL_AFTER} tasks sent before the kill, "
          f"{KILL_AFTER - before} lost")
    print(f"     worker restarts: {len(workers.restarts)}; a worker that exits costs its prefetched "
          f"tasks {VISIBILITY} s")
    print("     (the visibility timeout hands them to the next one)")
    new_role = replica.info("replication").get("role")
    print(f"     the old replica on host b is now: {new_role}")
    ok = (lost == 0 and watch.new == (ra, rp) and new_role == "master")
    if not ok:
        print(f"[!] {'lost ' + str(lost) + ' task(s)' if lost else 'the replica was not promoted'}: "
              "see the failover-*.log files")
    primary.close()
    replica.close()
    return ok


def main():
    if shutil.which("redis-server") is None:
        sys.exit(MISSING)
    folder = Path(tempfile.mkdtemp(prefix="failover-"))
    ok = False
    try:
        with Network(["a", "b", "c"], loopback=True if os.environ.get("LOOPBACK") == "1" else None) as net:
            try:
                ok = drill(net, folder)
            except KeyboardInterrupt:
                print("[!] interrupted: stopping every server and worker")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print("[12] stopped the workers, Redis servers and Sentinels; hosts removed")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
