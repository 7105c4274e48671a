"""`make tour` itself: run a chapter end to end the way an instructor would, unattended."""

import subprocess
import sys
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent


def test_tour_runs_chapter_01_and_cleans_up(redis_url):
    before = {p.pid for p in psutil.process_iter()}
    done = subprocess.run([sys.executable, "-m", "tour", "01"], cwd=ROOT, capture_output=True,
                          text=True, timeout=180, env={**__import__("os").environ,
                                                        "REDIS_URL": redis_url, "AUTO": "1"})
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "[redis] using REDIS_URL=" in out
    assert "$ celery -A celery_task worker -l info" in out
    assert "worker is ready: it answered a ping" in out
    assert "add.delay(2, 3) -> 5" in out
    assert "succeeded in" in out  # worker log lines are shown under the step
    assert "5/5" in out  # the summary table
    leftovers = [p for p in psutil.process_iter(["cmdline"])
                 if p.pid not in before and "celery" in " ".join(p.info["cmdline"] or [])]
    assert not leftovers, leftovers
    (ROOT / "01_quickstart" / ".last_task_id").unlink(missing_ok=True)
