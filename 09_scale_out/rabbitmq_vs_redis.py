"""RabbitMQ beside Redis: the same app, the same delayed task, two brokers.

    python rabbitmq_vs_redis.py
    python rabbitmq_vs_redis.py --countdown 10 --visibility-timeout 2

It starts everything it needs, on loopback, and stops it all again (also after Ctrl-C):
a private redis-server and a private RabbitMQ node (rabbitmq_node.py: its own node name,
ports, epmd and folders, so a RabbitMQ or Redis of yours is never touched), then two workers
of the chapter's app, unchanged, told apart only by their environment:
    worker@redis     BROKER_URL=redis://127.0.0.1:<port>/0
    worker@rabbitmq  BROKER_URL=amqp://guest:guest@127.0.0.1:<port>//
both with VISIBILITY_TIMEOUT=2 and their results (and the `runs` hash crunch counts in) in
the same Redis. Chapter 03's trap: one crunch with a countdown longer than the visibility
timeout through each broker, then how often each one ran; then what RabbitMQ costs beside
Redis: seconds to the first answer, resident memory after the run.
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import celery.app.base  # noqa: F401 - Celery's heavy modules now, not after [2]: a Ctrl-C
import kombu.transport.pyamqp  # noqa: F401 - in the middle of an import prints a traceback
import kombu.transport.redis  # noqa: F401
from rabbitmq_node import Missing, RabbitNode, private_redis, stop_group

HERE = Path(__file__).resolve().parent
WORKER_READY = 30  # seconds

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--countdown", type=float, default=7, help="seconds until the task is due")
parser.add_argument("--visibility-timeout", type=int, default=2,
                    help="VISIBILITY_TIMEOUT of both workers (seconds)")
args = parser.parse_args()
if args.countdown <= args.visibility_timeout:
    sys.exit("[!] the trap needs --countdown longer than --visibility-timeout")


def plural(count, word):
    return f"{count} {word}{'s' * (count != 1)}"


def start_worker(name, env, logs):
    """celery -A celery_task worker -n worker@<name>, in a process group of its own."""
    log = open(Path(logs) / f"{name}.log", "w")
    command = [sys.executable, "-m", "celery", "-A", "celery_task", "worker", "-l", "info",
               "-n", f"worker@{name}", "-P", "solo", "-c", "1", "--without-gossip", "--without-mingle"]
    proc = subprocess.Popen(command, cwd=HERE, env={**os.environ, **env}, stdout=log,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    log.close()
    return proc, Path(log.name)


def wait_ready(workers):
    deadline = time.monotonic() + WORKER_READY
    for name, (proc, log) in workers.items():
        while " ready." not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                last = (log.read_text(errors="replace").strip().splitlines() or ["(no output)"])[-1]
                state = "exited" if proc.poll() is not None else f"was not ready within {WORKER_READY} s"
                sys.exit(f"[!] worker@{name} {state}: {last}")
            time.sleep(0.1)


def unacked_and_prefetch(node):
    """(unacknowledged messages, prefetch limit) of the busiest channel of the node."""
    out = node.ctl("list_channels", "messages_unacknowledged", "prefetch_count",
                   "global_prefetch_count", "--no-table-headers")
    rows = [tuple(map(int, line.split())) for line in out.splitlines()
            if re.fullmatch(r"\d+\s+\d+\s+\d+", line.strip())]
    unacked, per_consumer, per_channel = max(rows, default=(0, 0, 0))
    return unacked, max(per_consumer, per_channel)  # Celery sets the channel-wide (global) one


def received(log, task_id):
    """How many times the worker's log says it received this task (each delivery once)."""
    return len(re.findall(rf"Task celery_task\.crunch\[{task_id}\] received", log.read_text(errors="replace")))


def main(node, redis_server, logs):
    print(f"[1] a private redis-server {redis_server.version} on 127.0.0.1:{redis_server.port}: first PONG after "
          f"{redis_server.started_in:.3f} s")
    print(f"[2] a private RabbitMQ {node.version} node {node.name} on 127.0.0.1:{node.port} "
          f"(epmd on {node.epmd_port}, not 4369): first AMQP login after {node.started_in:.1f} s")
    backend = f"{redis_server.url}/1"
    brokers = {"redis": f"{redis_server.url}/0", "rabbitmq": node.url}
    os.environ.update(BROKER_URL=brokers["redis"], RESULT_BACKEND=backend,
                      VISIBILITY_TIMEOUT=str(args.visibility_timeout))
    from celery_task import app, crunch  # the chapter's app, configured by the environment

    workers = {}
    try:  # started inside the try: a Ctrl-C between two starts still stops the first
        for name, url in brokers.items():
            workers[name] = start_worker(name, {"BROKER_URL": url}, logs)
        wait_ready(workers)
        print(f"[3] two workers of the same app, both with VISIBILITY_TIMEOUT={args.visibility_timeout}:")
        print(f"    worker@redis    (broker redis://127.0.0.1:{redis_server.port}/0)")
        print(f"    worker@rabbitmq (broker amqp://guest:**@127.0.0.1:{node.port}//)")
        sent = {"redis": crunch.apply_async((1, 0.2), countdown=args.countdown)}
        with app.connection_for_write(node.url) as connection:
            sent["rabbitmq"] = crunch.apply_async((2, 0.2), countdown=args.countdown,
                                                  connection=connection)
        due = time.monotonic() + args.countdown
        print(f"[4] sent crunch(1) through Redis and crunch(2) through RabbitMQ, countdown "
              f"{args.countdown:g} s (longer than the visibility timeout); counting at due + 2 s")
        base = app.conf.worker_prefetch_multiplier  # x 1 process (-c 1)
        for _ in range(12):  # the worker raises its limit for the held task within a second or so
            time.sleep(0.25)
            held = unacked_and_prefetch(node)
            if held[0] and held[1] > base:
                break
        print("[5] meanwhile RabbitMQ itself holds worker@rabbitmq's task (rabbitmqctl list_channels):")
        print(f"    unacknowledged: {plural(held[0], 'message')} on its channel, prefetch limit "
              f"{held[1]} ({base} x 1 process, +1 per task held for its ETA)")
        while time.monotonic() < due + 2:
            for name, (proc, log) in workers.items():
                if proc.poll() is not None:
                    sys.exit(f"[!] worker@{name} exited while waiting: see its last line: "
                             f"{(log.read_text().strip().splitlines() or ['(none)'])[-1]}")
            time.sleep(0.1)
        runs = {name: int(app.backend.client.hget("runs", str(number)) or 0)
                for name, number in (("redis", 1), ("rabbitmq", 2))}
        print("[6] how many times did each one run? (the `runs` hash crunch counts in)")
        for name, label in (("redis", "Redis   "), ("rabbitmq", "RabbitMQ")):
            got = received(workers[name][1], sent[name].id)
            print(f"    {label}: delivered {plural(got, 'time')}, ran {plural(runs[name], 'time')}")
        answer = node.ctl("eval", "application:get_env(rabbit, consumer_timeout).")  # {ok,1800000}
        limit = int(re.search(r"\d+", answer)[0]) if re.search(r"\d+", answer) else None
        limit_text = f"{limit} ms ({limit / 60000:g} min)" if limit else f"unknown ({answer})"
        print("[7] Redis has no acknowledgements of its own: kombu keeps each delivered task in a hash of")
        print("    unacknowledged messages and puts it back in the queue once it is older than the visibility")
        print("    timeout; the worker, still holding its first copy until the task is due, takes it again,")
        print("    and every copy runs. AMQP has no visibility timeout: an unacknowledged message goes back")
        print("    only when its channel closes (the worker died or lost its connection). RabbitMQ's one")
        print(f"    limit is consumer_timeout, {limit_text} on this node: hold a task longer and RabbitMQ")
        print("    closes the channel, the worker stops with \"Unrecoverable error: PreconditionFailed\",")
        print("    and the task waits in the queue, unrun, for the next worker")
        redis_mib, rabbit_mib = redis_server.rss_mib(), node.rss_mib()
        print(f"[8] what RabbitMQ costs beside Redis: first answer after {node.started_in:.1f} s "
              f"against {redis_server.started_in:.3f} s;")
        print(f"    resident memory after the run {rabbit_mib:.0f} MiB (beam.smp) against "
              f"{redis_mib:.0f} MiB (redis-server)")
        return runs
    finally:
        for proc, _ in workers.values():
            proc.poll() is None and proc.send_signal(signal.SIGTERM)  # warm shutdowns, side by side
        for proc, _ in workers.values():
            stop_group(proc, timeout=10)


signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stopped by the tour: clean up too
try:
    with tempfile.TemporaryDirectory(prefix="cbri-workers-") as logs, private_redis() as redis_server, \
            RabbitNode() as node:
        runs = main(node, redis_server, logs)
        stopping = time.monotonic()
    print(f"[9] stopped the workers, then RabbitMQ (rabbitmqctl stop), its epmd and redis-server in "
          f"{time.monotonic() - stopping:.1f} s; their folders are gone")
except Missing as missing:
    sys.exit(str(missing))
except RuntimeError as failed:  # a server that did not start: its last log line
    sys.exit(f"[!] {failed}")
except KeyboardInterrupt:
    sys.exit("[!] interrupted: every server and worker this script started is stopped")
if runs["redis"] < 2 or runs["rabbitmq"] != 1:
    sys.exit(f"[!] expected several runs on Redis and one on RabbitMQ, got {runs}")
