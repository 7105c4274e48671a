"""What the scripts of this chapter share: finding the workers they need, starting and
stopping workers of their own, and the two numbers every latency is reported with.

    from own_workers import needs_workers, started_worker, median_p95
"""

import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager

HOST = socket.gethostname()
PROCFILE = {  # what the README starts in terminals 2 and 3
    "sms": "celery -A celery_task worker -l info -Q sms,api -n sms@%h -P threads -c 4",
    "reports": "celery -A celery_task worker -l info -Q reports,api -n reports@%h "
               "--autoscale=3,1 --max-memory-per-child=150000",
}


def needs_workers(app, *names):
    """Exit with one line unless the workers named (sms, reports) answer a ping within 3 s."""
    wanted = [f"{name}@{HOST}" for name in names]
    replies = app.control.ping(destination=wanted, timeout=3, limit=len(wanted)) or []
    answered = {name for reply in replies for name in reply}
    for name, full in zip(names, wanted):
        if full not in answered:
            sys.exit(f"[!] no worker {full} answered: start it in its own terminal with "
                     f"`{PROCFILE[name]}` (README, terminals 2 and 3), then run this again")


@contextmanager
def started_worker(*args, name, ready_timeout=30):
    """A worker of this chapter's app run by the script itself, `celery -A celery_task worker
    -n <name>@<host> <args>`; stopped (warm, then killed) when the block ends. Yields the
    process, its full name and the path of its log."""
    with started_workers([(name, args)], ready_timeout) as [worker]:
        yield worker


@contextmanager
def started_workers(specs, ready_timeout=30):
    """Several at once: specs is [(name, args), ...]; they start side by side."""
    running = []
    try:
        for name, args in specs:
            log = tempfile.NamedTemporaryFile("w", prefix=f"worker-{name}-", suffix=".log",
                                              delete=False)
            full = f"{name}@{HOST}"
            command = [sys.executable, "-m", "celery", "-A", "celery_task", "worker", "-l", "info",
                       "-n", full, *args]  # the Celery of the Python running this script
            proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
            running.append((proc, full, log))
        for proc, _, log in running:
            wait_for_line(log.name, " ready.", proc, ready_timeout)
        answers_ping([full for _, full, _ in running], ready_timeout)
        yield [(proc, full, log.name) for proc, full, log in running]
    except KeyboardInterrupt:  # Ctrl-C: one line, after the workers below are stopped
        raise SystemExit("[!] interrupted: the workers this script started are stopped") from None
    finally:
        for proc, _, _ in running:
            proc.poll() is None and proc.send_signal(signal.SIGTERM)  # warm shutdowns, side by side
        for proc, _, log in running:
            stop(proc)
            log.close()
            os.unlink(log.name)


def answers_ping(names, timeout):
    """Wait until every named worker answers a ping: "ready." in its log comes a moment
    before it listens for broadcasts (inspect, control)."""
    from celery_task import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        replies = app.control.ping(destination=names, timeout=1, limit=len(names)) or []
        if {name for reply in replies for name in reply} >= set(names):
            return
    sys.exit(f"[!] {', '.join(names)} did not answer a ping within {timeout} s: is Redis running?")


def wait_for_line(path, text, proc, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(path) as log:
            if text in log.read():
                return
        if proc.poll() is not None:
            with open(path) as log:
                last = (log.read().strip().splitlines() or ["(no output)"])[-1]
            sys.exit(f"[!] a worker this script started exited at once: {last}")
        time.sleep(0.1)
    stop(proc)
    sys.exit(f"[!] a worker this script started was not ready within {timeout} s: is Redis running?")


def stop(proc, timeout=15):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # warm shutdown
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def median_p95(values):
    """(median, 95th percentile) of a list of seconds."""
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95
