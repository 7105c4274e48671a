"""Chapter 09, RabbitMQ beside Redis: rabbitmq_vs_redis.py run as a learner runs it.

The script starts a private RabbitMQ node (rabbitmq_node.py) and a private redis-server of its
own, two workers of the chapter's app, sends one delayed crunch through each broker, and
counts the runs. These tests assert the counts (several on Redis, exactly one on RabbitMQ),
record the start-up and memory figures, and check that nothing of the run is left: no
beam.smp, epmd or redis-server of its own, no worker, no temporary folder, no namespace; also
after a Ctrl-C in the middle.
"""

from __future__ import annotations

import os
import re
import signal
import sys
import subprocess
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from tests.readme_output import step_differences
from tour import provision

CHAPTER = "09_scale_out"
FOLDER = Path(__file__).resolve().parent.parent / CHAPTER
SCRIPT = "python rabbitmq_vs_redis.py"
TEMP_PREFIXES = ("cbri-rabbitmq-", "cbri-redis-", "cbri-workers-")


@pytest.fixture(autouse=True)
def rabbitmq_installed():
    if provision.rabbitmq_server() is None:
        pytest.fail(provision.RABBITMQ_MISSING)  # never a silent skip


def sample_page() -> Path:
    """Where the sample output is shown."""
    return FOLDER / "README.md"


def temp_folders() -> set[str]:
    root = Path(tempfile.gettempdir())
    return {p.name for prefix in TEMP_PREFIXES for p in root.glob(f"{prefix}*")}


def leftovers(output: str, folder: Path) -> list[str]:
    """Live processes of this run: its RabbitMQ node (by node name), its epmd and redis-server
    (by port), its workers (by the scratch folder they ran in)."""
    node = re.search(r"node (cbri-\d+@localhost)", output)
    redis_port = re.search(r"redis-server \S+ on 127\.0\.0\.1:(\d+)", output)
    epmd_port = re.search(r"\(epmd on (\d+),", output)
    marks = [mark for mark in (node and node[1],
                               redis_port and f"127.0.0.1:{redis_port[1]}",
                               epmd_port and f"-port {epmd_port[1]} ") if mark]
    found = []
    for proc in psutil.process_iter(["pid", "cmdline", "status"]):
        try:
            if proc.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            line = " ".join(proc.info["cmdline"] or []) + " "
            if any(mark in line for mark in marks) or proc.cwd().startswith(str(folder)):
                found.append(f"{proc.pid} {line.strip()}")
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            pass
    return found


def namespaces_of(output: str) -> list[str]:
    """Network namespaces hosts.py would have made for the script's pid (none expected)."""
    pid = re.search(r"node cbri-(\d+)@localhost", output)
    if pid is None or not Path("/var/run/netns").exists():
        return []
    return [name for name in os.listdir("/var/run/netns") if name.startswith(f"cbri{int(pid[1]) % 100000}-")]


def number(pattern: str, text: str) -> float:
    found = re.search(pattern, text)
    assert found, (pattern, text)
    return float(found[1])


def test_visibility_trap_on_redis_not_on_rabbitmq(lab, figures):
    """Redis runs the delayed task several times, RabbitMQ once; start-up and memory shown."""
    before = temp_folders()
    step, = [s for s in lab.chapter.steps if s.run == SCRIPT]
    out = lab.run_step(step).output
    page = sample_page()
    problems = step_differences(page.read_text(encoding="utf-8"), CHAPTER, [(SCRIPT, out)])
    assert not problems, f"{page.name}:\n" + "\n\n".join(problems)

    redis_delivered, redis_ran = map(int, re.search(
        r"Redis   : delivered (\d+) times?, ran (\d+) times?", out).groups())
    rabbit_delivered, rabbit_ran = map(int, re.search(
        r"RabbitMQ: delivered (\d+) times?, ran (\d+) times?", out).groups())
    assert redis_ran > 1 and redis_delivered == redis_ran, out  # each delivery ran once
    assert (rabbit_delivered, rabbit_ran) == (1, 1), out
    assert "consumer_timeout, 1800000 ms (30 min) on this node" in out, out  # RabbitMQ 3.10's default
    # the broker holds the task for the worker: 1 unacknowledged, the prefetch window 4 x 1 + 1
    assert "unacknowledged: 1 message on its channel, prefetch limit 5 (4 x 1 process" in out, out

    rabbit_start = number(r"first AMQP login after ([\d.]+) s", out)
    redis_start = number(r"first PONG after ([\d.]+) s", out)
    rabbit_mib = number(r"after the run (\d+) MiB \(beam\.smp\)", out)
    redis_mib = number(r"against (\d+) MiB \(redis-server\)", out)
    assert rabbit_start > 0 and redis_start >= 0 and rabbit_mib > 0 and redis_mib > 0, out
    figures(f"visibility trap, 09_scale_out: a countdown of 7 s with a visibility timeout of 2 s "
            f"ran {redis_ran} times on Redis, {rabbit_ran} time on RabbitMQ")
    figures(f"RabbitMQ beside Redis, 09_scale_out: first answer after {rabbit_start:.1f} s against "
            f"{redis_start:.2f} s; resident memory {rabbit_mib:.0f} MiB (beam.smp) against "
            f"{redis_mib:.0f} MiB (redis-server)")

    assert re.search(r"^\[9\] stopped the workers, then RabbitMQ", out, re.M), out
    assert leftovers(out, lab.path) == []
    assert temp_folders() - before == set()
    assert namespaces_of(out) == []


def test_ctrl_c_stops_everything(lab):
    """Ctrl-C once RabbitMQ has answered: one line, exit 1, nothing of the run left."""
    before = temp_folders()
    env = lab.env()
    proc = subprocess.Popen(SCRIPT.split(), cwd=lab.path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines = []
    try:
        deadline = time.monotonic() + 60
        for line in proc.stdout:  # read up to the line saying RabbitMQ answers
            lines.append(line)
            if line.startswith("[2] ") or time.monotonic() > deadline:
                break
        assert lines and lines[-1].startswith("[2] "), "".join(lines)
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C sends to the foreground
        rest, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
    out = "".join(lines) + rest
    assert proc.returncode == 1, out
    assert out.rstrip().endswith(
        "[!] interrupted: every server and worker this script started is stopped"), out
    assert leftovers(out, lab.path) == []
    assert temp_folders() - before == set()


def test_without_rabbitmq_one_line_naming_the_package(lab):
    """Where RabbitMQ is not installed: one line naming the package, exit 1, no traceback."""
    hide = ("import rabbitmq_node, runpy; rabbitmq_node.SERVER_PATHS = (); "
            "runpy.run_path('rabbitmq_vs_redis.py', run_name='__main__')")
    env = {**lab.env(), "PATH": str(Path(sys.executable).parent)}  # no rabbitmq-server on it
    done = subprocess.run([sys.executable, "-c", hide], cwd=lab.path, env=env, capture_output=True,
                          text=True, timeout=30)
    out = done.stdout + done.stderr
    assert done.returncode == 1 and "Traceback" not in out, out
    assert out.strip().splitlines() == [
        "[!] RabbitMQ is not installed: install Debian's package (sudo apt-get install "
        "rabbitmq-server; macOS: brew install rabbitmq), then run this again"], out
