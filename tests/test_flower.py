"""Flower, the dashboard an instructor opens during a live demo: started from the chapter
Procfiles against the private Redis, it lists the tasks a chapter ran, and its task page
renders in headless Chromium."""

import json
import time
import urllib.request

import pytest

from tests.conftest import Lab
from tour import walkthrough
from tour.redis import free_port

CHAPTER = "01_quickstart"
WITH_FLOWER = [ch for ch in walkthrough.chapters() if "flower" in ch.processes]


def flower_env(port):
    # Flower reads its options from FLOWER_* variables: the Procfile command stays the same.
    return {"FLOWER_PORT": str(port), "FLOWER_UNAUTHENTICATED_API": "true"}


def get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read().decode()


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
        tasks = json.loads(get(f"http://127.0.0.1:{port}/api/tasks"))
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


@pytest.mark.parametrize("chapter", WITH_FLOWER, ids=lambda ch: ch.name)
def test_each_chapter_flower_line_starts(chapter, redis_url):
    """The `flower:` line of every Procfile starts and answers its health check."""
    port = free_port()
    lab = Lab(chapter, redis_url)
    try:
        lab.start("flower", env=flower_env(port))
        assert get(f"http://127.0.0.1:{port}/healthcheck") == "OK"
    finally:
        lab.close()
