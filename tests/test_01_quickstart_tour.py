"""Chapter 01 through the tour (the learner's folder left as it was), in Flower, and with a
password."""

import json
import subprocess
import sys
import time

from tests.conftest import (ROOT, Lab, chapter_snapshot, flower_env, http_get, marked,
                            snapshot_difference, tour_env)
from tour import walkthrough
from tour.redis_server import RedisServer, free_port

CHAPTER = "01_quickstart"


def git_status(folder):
    done = subprocess.run(["git", "status", "--porcelain", "--ignored", "--untracked-files=all", "."],
                          cwd=folder, capture_output=True, text=True, timeout=30)
    return done.stdout


def test_tour_runs_chapter_01_and_leaves_the_folder_as_the_learner_left_it(redis_url):
    """The tour runs every step, stops every process, and the chapter folder (a learner's
    own .last_task_id included) is the same afterwards: git status and every file's bytes."""
    folder = ROOT / CHAPTER
    learner_file = folder / ".last_task_id"
    placed = not learner_file.exists()  # a learner's own one, if there is one, stays as it is
    if placed:
        learner_file.write_text("the-learners-own-id\n")
    learners_id = learner_file.read_text()
    try:
        before = (git_status(folder), snapshot_difference({}, chapter_snapshot()))
        env = tour_env(redis_url)
        done = subprocess.run([sys.executable, "-m", "tour", "01"], cwd=ROOT, capture_output=True,
                              text=True, timeout=180, env=env)
        with Lab(walkthrough.find("01"), redis_url) as lab:  # the suite's way, too
            lab.start("worker")
            lab.run("python submit.py")
        after = (git_status(folder), snapshot_difference({}, chapter_snapshot()))
        assert learner_file.read_text() == learners_id
    finally:
        if placed:
            learner_file.unlink()
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert before == after, (before, after)
    assert "!! 01_quickstart/.last_task_id" in before[0]  # git sees the learner's file
    assert "[redis] using REDIS_URL=" in out
    assert "$ celery -A celery_task worker -l info" in out
    assert "flower" not in out  # the dashboard starts only with FLOWER=1
    assert "worker is ready: it answered a ping" in out
    assert "add.delay(2, 3) -> 5" in out
    assert "succeeded in" in out  # worker log lines are shown under the step
    steps = len(walkthrough.find("01").steps)
    assert f"✓ 01_quickstart │          {steps}/{steps}" in out  # the summary table
    assert "stopped worker\n" in out
    assert not marked(env)


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
    try:
        with Lab(walkthrough.find("01"), server.url) as lab:
            worker = lab.start("worker")
            outputs = [lab.run_step(step) for step in lab.chapter.steps]
            assert "add.delay(2, 3) -> 5" in outputs[0].output
            refused = lab.run("python submit.py", exit=1, timeout=30,
                              redis_url=server.url.replace(password, "wrong"))
    finally:
        server.stop()
    everything = "\n".join([worker.output(), refused.output, *(o.output for o in outputs)])
    assert refused.returncode == 1 and "redis://:**@127.0.0.1" in refused.output  # as the banner
    assert "redis://:**@127.0.0.1" in worker.output()  # the banner shows it masked
    assert password not in everything
    assert password not in (tmp_path / "redis.log").read_text()
