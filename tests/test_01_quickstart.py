"""Chapter 01, run as a learner runs it: real worker processes, real Redis."""

import json
import re
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT, flower_env, http_get, marked, tour_env
from tests.readme_output import assert_readme_shows
from tour import procs, walkthrough
from tour.redis_server import RedisServer, free_port

CHAPTER = "01_quickstart"


def test_walkthrough(lab, figures):
    """Every step of the README, in order, with the Procfile's worker."""
    lab.start("worker")
    outputs = [lab.run_step(step).output for step in lab.chapter.steps]
    assert_readme_shows(lab.chapter, lab.chapter.steps, outputs)  # README's sample output
    submit, _, states, failure, unknown, bad_input, type_error = outputs
    assert submit.count("-> 5  (state SUCCESS)") == 3
    # shaky_add fails twice (RETRY, RETRY), then succeeds
    shaky = states.split("[2]")[1].split("[3]")[0]
    assert re.findall(r"\b(STARTED|RETRY|SUCCESS)\b", shaky)[:6] == [
        "STARTED", "RETRY", "STARTED", "RETRY", "STARTED", "SUCCESS"]
    assert 'ZeroDivisionError: division by zero' in failure
    assert "UNKNOWN" in unknown and "PENDING" not in unknown.split("UNKNOWN")[0]
    assert bad_input.count("refused before sending") == 2
    assert "TypeError: add() takes 2 positional arguments but 3 were given" in type_error
    figures("bad input, 01_quickstart: a set argument refused at send (not JSON serializable); "
            "add(1, 2, 3) refused at send, and by name it ends FAILURE with the TypeError; "
            "an unknown id is UNKNOWN (exit 1)")


@pytest.mark.parametrize("pool, banner", [
    ("worker_prefork", "prefork"),
    ("worker_threads", "thread"),
    ("worker_eventlet", "eventlet"),
])
def test_each_pool_runs_add(lab, pool, banner):
    """The worker commands the README shows for Linux/macOS and Windows all compute add(2, 3)."""
    worker = lab.start(pool)
    assert re.search(rf"concurrency: \d+ \({banner}\)", worker.output()), worker.output()
    result = lab.run("python submit.py")
    assert result.output.count("-> 5  (state SUCCESS)") == 3
    assert worker.count(r"Task celery_task\.add\[.*\] succeeded") == 3


def test_pending_until_a_worker_starts(lab):
    """Tasks sent with no worker wait in Redis (PENDING), and run once a worker starts."""
    sent = lab.run(lab.chapter.command("submit_no_wait"))
    assert "not waiting (--no-wait)" in sent.output
    pending = lab.run("python check_result.py")
    assert "PENDING: the task waits in the queue" in pending.output
    worker = lab.start("worker_solo")  # the Windows-friendly pool: one task at a time
    deadline = time.monotonic() + 20
    while "SUCCESS" not in (out := lab.run("python check_result.py").output):
        assert time.monotonic() < deadline, out
        time.sleep(0.5)
    assert "SUCCESS: the task returned 5" in out
    worker.wait_for(r"Task celery_task\.add\[.*\] succeeded", timeout=10)


def test_no_worker_times_out_with_advice(lab):
    """submit.py never hangs: without a worker it gives up and says what to check."""
    result = lab.run(lab.chapter.command("submit_short_timeout"), exit=1, timeout=30)
    assert 3 <= result.seconds < 20
    assert "Is a worker running" in result.output


def test_redis_down_is_one_clear_line(lab):
    """With nothing listening at REDIS_URL, each script says so in one line within 10 s."""
    for command in ("python submit.py", "python check_result.py 1234", "python watch_states.py"):
        result = lab.run(command, exit=1, timeout=30, redis_url="redis://127.0.0.1:1")
        assert result.seconds < 10, (command, result.seconds)
        problem = [line for line in result.output.splitlines() if line.startswith("[!]")]
        assert problem == [result.output.splitlines()[-1]], result.output
        assert lab.chapter.broker_url("redis://127.0.0.1:1") in problem[0] and "make redis" in problem[0]
        assert "Traceback" not in result.output


# --- the same chapter through the tour, in Flower, and with a password ------------------

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


def test_flower_lists_the_tasks_and_shows_one_in_a_browser(lab, browser):
    port = free_port()
    lab.start("worker")
    flower = lab.start("flower", env=flower_env(port))
    assert f"Visit me at http://127.0.0.1:{port}" in flower.output()
    submit = lab.run("python submit.py")
    ids = [line.split("-> id ")[1] for line in submit.output.splitlines() if "-> id " in line]
    assert len(ids) == 3
    deadline = time.monotonic() + 20
    while True:  # Flower learns about tasks from the worker's events, a moment later
        tasks = json.loads(http_get(f"http://127.0.0.1:{port}/api/tasks"))
        done = [t for t in tasks.values() if t["uuid"] in ids and t["state"] == "SUCCESS"]
        if len(done) == 3 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert [(t["name"], t["result"]) for t in done] == [("celery_task.add", "5")] * 3, tasks
    page = browser.new_page()
    page.goto(f"http://127.0.0.1:{port}/task/{ids[0]}")
    page.wait_for_selector("text=SUCCESS", timeout=10_000)
    text = page.inner_text("body")
    assert "celery_task.add" in text and ids[0] in text


def test_password_works_and_is_never_shown(tmp_path):
    """Chapter 01 against a Redis with requirepass: it works, the password never shows."""
    password = "Pa55-never-print-me"
    server = RedisServer.start(tmp_path, password=password)
    chapter = walkthrough.find("01")
    env = procs.chapter_env(server.url, {"PYTHONDONTWRITEBYTECODE": "1"})
    worker = procs.Proc("worker", chapter.processes["worker"], chapter.path, env).start()
    try:
        worker.wait_for(r"ready\.", timeout=60)
        outputs = [procs.run_step(step.run, chapter.path, env, timeout=60) for step in chapter.steps]
        assert "add.delay(2, 3) -> 5" in outputs[0].output
        wrong = procs.chapter_env(server.url.replace(password, "wrong"))
        refused = procs.run_step("python submit.py", chapter.path, wrong, timeout=30)
    finally:
        worker.stop()
        server.stop()
        (chapter.path / ".last_task_id").unlink(missing_ok=True)
    everything = "\n".join([worker.output(), refused.output, *(o.output for o in outputs)])
    assert refused.returncode == 1 and "redis://:***@127.0.0.1" in refused.output
    assert "redis://:**@127.0.0.1" in worker.output()  # the banner shows it masked
    assert password not in everything
    assert password not in (tmp_path / "redis.log").read_text()
