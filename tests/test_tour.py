"""`make tour` itself: run a chapter end to end the way an instructor would, unattended, and
interrupt one with Ctrl-C. Neither may leave a process behind."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil

from tour import walkthrough

ROOT = Path(__file__).resolve().parent.parent


def tour_env(redis_url):
    """The tour's environment, with a unique mark every process it starts inherits."""
    return {**os.environ, "REDIS_URL": redis_url, "AUTO": "1", "TOUR_TEST_MARK": uuid.uuid4().hex}


def marked(env):
    """Processes still alive that carry this run's mark in their environment."""
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.environ().get("TOUR_TEST_MARK") == env["TOUR_TEST_MARK"]:
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            pass
    return found


def test_tour_runs_chapter_01_and_cleans_up(redis_url):
    env = tour_env(redis_url)
    done = subprocess.run([sys.executable, "-m", "tour", "01"], cwd=ROOT, capture_output=True,
                          text=True, timeout=180, env=env)
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "[redis] using REDIS_URL=" in out
    assert "$ celery -A celery_task worker -l info" in out
    assert "flower" not in out  # the dashboard starts only with FLOWER=1
    assert "worker is ready: it answered a ping" in out
    assert "add.delay(2, 3) -> 5" in out
    assert "succeeded in" in out  # worker log lines are shown under the step
    steps = len(walkthrough.find("01").steps)
    assert f"✓ 01_quickstart │          {steps}/{steps}" in out  # the summary table
    assert not marked(env)
    (ROOT / "01_quickstart" / ".last_task_id").unlink(missing_ok=True)


def test_ctrl_c_stops_everything_the_tour_started(redis_url):
    env = tour_env(redis_url)
    tour = subprocess.Popen([sys.executable, "-m", "tour", "02"], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    for line in tour.stdout:  # wait until the worker is up and a step is running
        if "(1/" in line or time.monotonic() > deadline:
            break
    assert marked(env), "the tour started no process"
    tour.send_signal(signal.SIGINT)  # what Ctrl-C at the terminal sends
    out = tour.communicate(timeout=60)[0]
    assert tour.returncode == 130, out
    assert "interrupted: stopping everything the tour started" in out
    assert not [p.cmdline() for p in marked(env)], out
    (ROOT / "02_package_layout" / ".last_task_id").unlink(missing_ok=True)
