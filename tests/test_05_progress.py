"""Chapter 05's progress bar, in headless Chromium against the real site and a real worker:
the page /thumbnails/ starts rebuild_thumbnails (POST /api/thumbnails/), polls
GET /api/tasks/<id>/ and draws the task's update_state() progress. The steps progress_demo
and sms_flood (the throttle, the rate limit) run in test_05_django_integration's walkthrough,
judged by their steps.toml patterns and the README's sample output."""

import json
import time

import pytest
import redis as redis_py

from tests.test_05_django_integration import (CHAPTER, loaded_site, migrated_db,  # noqa: F401
                                              site)

SECONDS_PER_BANNER = "0.4"  # THUMBNAIL_SECONDS for these tests (the README's default is 0.5)

# Every value the bar's aria-valuenow takes, and every text of the status line, in order.
RECORD = """() => {
  window.seen = []; window.said = [];
  const bar = document.getElementById("bar"), status = document.getElementById("status");
  new MutationObserver(() => seen.push(Number(bar.getAttribute("aria-valuenow"))))
    .observe(bar, {attributes: true, attributeFilter: ["aria-valuenow"]});
  new MutationObserver(() => said.push(status.textContent))
    .observe(status, {childList: true, characterData: true, subtree: true});
}"""


@pytest.fixture
def quick_thumbnails(monkeypatch):
    monkeypatch.setenv("THUMBNAIL_SECONDS", SECONDS_PER_BANNER)


def open_page(browser, url):
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    page.goto(url)
    page.evaluate(RECORD)
    return page


def test_the_bar_fills_as_the_worker_reports(lab, loaded_site, browser, quick_thumbnails):
    """Click the button: the bar passes through intermediate values (each update_state of
    the task), reaches 100 %, and the page shows the finished result and the thumbnails."""
    lab.start("web")
    worker = lab.start("worker")
    page = open_page(browser, loaded_site.url + "/thumbnails/")
    assert page.get_attribute("#bar", "aria-valuenow") == "0"
    page.click("#rebuild")
    page.wait_for_function("document.getElementById('status').textContent.startsWith('SUCCESS')",
                           timeout=30_000)
    seen = page.evaluate("window.seen")
    between = [value for value in seen if 0 < value < 100]
    assert len(between) >= 2, seen
    assert seen[-1] == 100 and seen == sorted(seen), seen  # it only ever grows, and ends full
    assert set(between) <= {17, 33, 50, 67, 83}, seen  # done/total of 6 banners
    said = page.evaluate("window.said")
    assert said[0].startswith("202: task "), said
    assert any(text.startswith("PROGRESS: ") and " of 6 banners" in text for text in said), said
    assert page.inner_text("#status").startswith("SUCCESS: 6 thumbnails of 240x90 in media/thumbs/")
    assert not any("waiting for a worker" in text for text in said), said

    # the result: six thumbnails, served by the site, 240 x 90, made in the scratch copy
    page.wait_for_function("[...document.querySelectorAll('#thumbs img')]"
                           ".filter(img => img.complete && img.naturalWidth > 0).length === 6",
                           timeout=10_000)
    sizes = page.eval_on_selector_all("#thumbs img", "imgs => imgs.map(i => [i.naturalWidth, i.naturalHeight])")
    assert sizes == [[240, 90]] * 6, sizes
    made = sorted(path.name for path in (lab.path / "media" / "thumbs").glob("*.png"))
    assert made == [f"banner-{pk}.png" for pk in range(1, 7)], made
    worker.wait_for(r"rebuild_thumbnails\[.*\] succeeded", timeout=10)
    assert "rebuilt 6 thumbnails in media/thumbs/" in worker.output()

    # the status view: the task's own state with its meta, then the result (what the page read)
    task_id = said[0].split()[2]
    status, _, body = loaded_site.http("GET", f"/api/tasks/{task_id}/")
    answer = json.loads(body)
    assert status == 200 and answer["state"] == "SUCCESS", answer
    assert answer["result"]["urls"][0] == f"{loaded_site.url}/media/thumbs/banner-1.png"


def test_without_a_worker_the_page_says_it_is_waiting(lab, loaded_site, browser, quick_thumbnails):
    """No worker: the page says the job is waiting (it does not hang), a page that gives up
    early says so, progress_demo gives up with advice; then a worker starts and the queued job
    runs to the end (nothing was lost while no one was there)."""
    lab.start("web")
    gives_up = open_page(browser, loaded_site.url + "/thumbnails/?give_up=3")
    waits = open_page(browser, loaded_site.url + "/thumbnails/")
    gives_up.click("#rebuild")
    waits.click("#rebuild")
    gives_up.wait_for_function("document.getElementById('status').textContent"
                               ".startsWith('gave up after 3 s: the task is still PENDING')",
                               timeout=15_000)
    assert any(text.startswith("waiting for a worker: still PENDING after 2 s")
               for text in gives_up.evaluate("window.said")), gives_up.evaluate("window.said")
    waits.wait_for_function("document.getElementById('status').textContent"
                            ".startsWith('waiting for a worker: still PENDING')", timeout=10_000)
    assert waits.get_attribute("#bar", "aria-valuenow") == "0"
    assert "celery -A luffy_api worker -l info" in waits.inner_text("#status")
    assert waits.is_disabled("#rebuild")  # still following its task

    # the command says the same, and gives up with one line and exit 1
    demo = lab.run("python manage.py progress_demo --timeout 2.5", exit=1, timeout=30)
    assert "still PENDING: no worker has taken the task yet" in demo.output, demo.output
    assert demo.output.splitlines()[-1].startswith("[!] the task is still PENDING after 2.5 s. "
                                                   "Is the worker running"), demo.output
    assert "Traceback" not in demo.output

    # three tasks wait in the broker's queue (db 9): the two pages' and the command's
    broker = redis_py.Redis.from_url(lab.chapter.url(lab.redis_url, "broker"))
    assert broker.llen("celery") == 3
    worker = lab.start("worker")
    waits.wait_for_function("document.getElementById('status').textContent.startsWith('SUCCESS')",
                            timeout=30_000)
    seen = waits.evaluate("window.seen")
    assert seen[-1] == 100 and any(0 < value < 100 for value in seen), seen
    worker.wait_for(r"rebuild_thumbnails\[.*\] succeeded", timeout=20)
    # the page that gave up no longer asks, but its task ran all the same
    assert gives_up.inner_text("#status").startswith("gave up after 3 s")
    deadline = time.monotonic() + 20
    while worker.count(r"rebuild_thumbnails\[.*\] succeeded") < 3:
        assert time.monotonic() < deadline, worker.output()
        time.sleep(0.1)
