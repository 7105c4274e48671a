"""Drill: a worker under a real supervisor, killed with SIGKILL, restarted by supervisord.

    python supervised_restart.py

It starts Debian's supervisord in front (`supervisord -n -c deploy/supervisord.conf`), which
starts a worker (queue `supervised`, name supervised@<host>) and beat; sends 8 build_report
tasks of 1 s (acks_late, reject_on_worker_lost); kills the worker's main process with SIGKILL
while 4 of them run (its pool processes die with it: Celery's prefork pool asks the kernel for
that); shows supervisord starting a new worker (a new pid, same name), which hands back at once
what its predecessor had taken (hand_back.py); waits for every result and counts: submitted,
completed, lost, ran twice (run_counter.py counts each start). Then it stops supervisord,
which stops worker and beat with TERM: a warm shutdown. Nothing is left running, also after
Ctrl-C or an error. Logs: deploy/supervisord.log, deploy/worker.log, deploy/beat.log.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
from celery.exceptions import TimeoutError as ResultTimeout

from celery_task import app, build_report
from redis_check import require_redis
from run_counter import RUNS, runs

TASKS, SECONDS, QUEUE = 8, 1.0, "supervised"
HERE = Path(__file__).resolve().parent
CONFIG = "deploy/supervisord.conf"
DEPLOY = HERE / "deploy"
NODE = f"supervised@{socket.gethostname()}"  # -n supervised@%h in the config
MISSING = ("[!] supervisord is not installed: install Debian's package (sudo apt-get install "
           "supervisor; macOS: brew install supervisor; anywhere: pip install supervisor), "
           "then run this again")


def ctl(*args, timeout=10):
    """supervisorctl -c deploy/supervisord.conf <args>: its output."""
    done = subprocess.run(["supervisorctl", "-c", CONFIG, *args], cwd=HERE, capture_output=True,
                          text=True, timeout=timeout)
    return done.stdout.strip()


def status(program):
    """('RUNNING', 1234): the state supervisorctl reports, and the pid (0: none)."""
    line = next((l for l in ctl("status").splitlines() if l.split()[:1] == [program]), "")
    pid = ctl("pid", program)  # given in the STARTING state too, where `status` shows none
    return (line.split()[1] if line else None), int(pid) if pid.isdigit() else 0


def log_size(name):
    path = DEPLOY / name
    return path.stat().st_size if path.exists() else 0


def log_since(name, offset):
    path = DEPLOY / name
    if not path.exists():
        return ""
    with path.open("rb") as log:
        log.seek(offset)
        return log.read().decode(errors="replace")


def wait(what, check, timeout, supervisor):
    """Poll check() until it gives something true; exit with one line after timeout."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if supervisor.poll() is not None:
            tail = log_since("supervisord.log", 0).strip().splitlines()[-1:] or ["(no log)"]
            raise SystemExit(f"[!] supervisord exited (code {supervisor.returncode}) while "
                             f"waiting for {what}: {tail[0]}")
        if time.monotonic() > deadline:
            raise SystemExit(f"[!] no {what} within {timeout:.0f} s: see deploy/supervisord.log "
                             "and deploy/worker.log")
        time.sleep(0.1)
    return value


def stop(supervisor):
    """SIGTERM to supervisord: it stops its programs (TERM, up to stopwaitsecs) and exits.
    Whatever is still alive after that (it should be nothing) is killed."""
    try:
        family = psutil.Process(supervisor.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        family = []
    if supervisor.poll() is None:
        supervisor.terminate()
        try:
            supervisor.wait(75)  # stopwaitsecs of the worker (60) and some
        except subprocess.TimeoutExpired:
            os.killpg(supervisor.pid, signal.SIGKILL)
            supervisor.wait(5)
    alive = [p for p in family if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    for proc in alive:
        proc.kill()
    return len(alive)


def drill(supervisor):
    started = time.monotonic()

    def pinged():
        return app.control.ping(destination=[NODE], timeout=0.5)

    wait(f"answer from {NODE}", pinged, 30, supervisor)
    answered = time.monotonic() - started
    wait("RUNNING state of worker and beat (startsecs=3)",
         lambda: all(status(p)[0] == "RUNNING" for p in ("worker", "beat")), 15, supervisor)
    print(f"[2] {NODE} answered a ping {answered:.1f} s later; "
          f"supervisorctl -c {CONFIG} status:")
    for line in ctl("status").splitlines():
        print(f"    {' '.join(line.split()[:4]).rstrip(',')}")
    old_pid = status("worker")[1]
    client = app.backend.client
    results = [build_report.apply_async((n, SECONDS), queue=QUEUE) for n in range(TASKS)]
    print(f"[3] sent {TASKS} x build_report ({SECONDS:.0f} s each, acks_late=True, "
          f"reject_on_worker_lost=True) to the queue {QUEUE}")
    ours = {r.id for r in results}

    def running():
        return sum(1 for task_id in runs(app) if task_id in ours) >= 4

    wait("4 tasks running", running, 20, supervisor)
    mark, worker_mark = log_size("supervisord.log"), log_size("worker.log")
    os.kill(old_pid, signal.SIGKILL)
    print(f"[4] 4 of them running: killed the worker's main process (pid {old_pid}) with "
          "SIGKILL; its pool processes die with it, its tasks stay unacknowledged in Redis")

    def restarted():
        state, pid = status("worker")
        return (state, pid) if pid and pid != old_pid and state in ("STARTING", "RUNNING") else None

    state, new_pid = wait("new worker process", restarted, 20, supervisor)
    exited = re.search(r"exited: worker \(([^)]*)\)", log_since("supervisord.log", mark))
    print(f"[5] supervisord: worker exited ({exited[1] if exited else 'killed'}); started again: "
          f"pid {old_pid} -> new pid {new_pid} ({state}), the same name {NODE}")
    print("    restarted under that name, it hands back at once the tasks its predecessor had "
          "taken (hand_back.py): no 1-hour visibility timeout")
    print("[6] waiting for every result (at most 30 s)")
    deadline, completed = time.monotonic() + 30, 0
    for result in results:
        try:
            result.get(timeout=max(0.1, deadline - time.monotonic()))
            completed += 1
        except ResultTimeout:
            print(f"    {result.id}: no result within 30 s")
    results.clear()  # no result left waiting on its Redis subscription at exit
    counts = {task_id: n for task_id, n in runs(app).items() if task_id in ours}
    twice = sum(1 for n in counts.values() if n > 1)
    handed = len(set(re.findall(r"handed back task (\S+):", log_since("worker.log", worker_mark))) & ours)
    print(f"[7] submitted {TASKS}, completed {completed}, lost {TASKS - completed}, "
          f"ran twice {twice} (handed back after the restart: {handed})")
    print("    the tasks the kill cut off ran again from the start (at-least-once): make such "
          "tasks idempotent")
    return completed == TASKS


def main():
    require_redis(app)
    if not (shutil.which("supervisord") and shutil.which("supervisorctl")):
        sys.exit(MISSING)
    if (DEPLOY / "supervisor.sock").exists() and ctl("pid").isdigit():
        sys.exit(f"[!] a supervisord of this folder is running already: stop it first "
                 f"(supervisorctl -c {CONFIG} shutdown)")
    app.backend.client.delete(RUNS)
    beat_mark = log_size("beat.log")
    # The programs find `celery` on supervisord's PATH: this Python's folder first (.venv/bin).
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent),
                                                  os.environ.get("PATH", "")])}
    print(f"[1] starting supervisord -n -c {CONFIG} (programs worker and beat; "
          "logs in deploy/)")
    supervisor = subprocess.Popen(["supervisord", "-n", "-c", CONFIG], cwd=HERE, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  start_new_session=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("[!] stopped (SIGTERM)"))
    ok = False
    stop_mark = 0
    try:
        ok = drill(supervisor)
        stop_mark = log_size("supervisord.log")
    except KeyboardInterrupt:
        print("[!] interrupted: stopping supervisord")
    finally:
        left = stop(supervisor)
        sent = log_since("beat.log", beat_mark).count("Sending due task heartbeat")
        stopped = re.findall(r"stopped: (\w+) \(([^)]*)\)", log_since("supervisord.log", stop_mark))
        print(f"[8] stopped supervisord (SIGTERM): it stopped its programs with TERM, a warm "
              f"shutdown ({', '.join(f'{name}: {how}' for name, how in sorted(stopped))}); "
              f"processes left: {left}")
        print(f"    heartbeats beat sent meanwhile (supervised too): {sent} (deploy/beat.log)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
