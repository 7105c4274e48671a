"""Tests for this chapter's tasks: a real worker inside the test process, the real Redis.

    python -m pytest test_tasks.py

celery.contrib.testing.worker.start_worker runs a worker in a thread of this process, on
the app's own broker and backend, for the tests of this module. The results travel through
Redis as JSON, exactly as in production: what eager mode would hide shows up here.
"""

import celery.contrib.testing.tasks  # noqa: F401  (the ping task start_worker waits for)
import pytest
from celery import chain, chord, group
from celery.contrib.testing.worker import start_worker
from kombu.exceptions import EncodeError
from kombu.utils.url import maybe_sanitize_url

from celery_task import add, app, fetch, parse, partial_sum, store, total, unique_words

TIMEOUT = 20
# The tests' own queue: a worker you left running in another terminal (it reads "celery")
# never takes the tests' tasks, and the test worker takes nothing else.
app.conf.task_default_queue = "test_tasks"


@pytest.fixture(scope="module")
def worker():
    try:
        app.backend.client.ping()  # no Redis, no tests: one line instead of a worker's retries
    except Exception:
        pytest.exit(f"[!] Redis is not answering at {maybe_sanitize_url(app.conf.broker_url)}. "
                    "Start it with `make redis`, then run this again.", returncode=1)
    # loglevel CRITICAL: the failures the tests cause on purpose are asserted, not logged
    with start_worker(app, pool="threads", concurrency=4, loglevel="CRITICAL"):
        yield


def test_add(worker):
    assert add.delay(2, 3).get(timeout=TIMEOUT) == 5


def test_the_pipeline(worker):
    result = chain(fetch.s("canvas"), parse.s(), store.s()).delay()
    assert result.get(timeout=TIMEOUT).startswith("stored the top 3 words")


def test_a_missing_page_fails_the_chain(worker):
    with pytest.raises(LookupError):
        chain(fetch.s("missing"), parse.s(), store.s()).delay().get(timeout=TIMEOUT)


def test_group_keeps_order(worker):
    assert group(add.s(n, n) for n in range(10)).delay().get(timeout=TIMEOUT) == list(range(0, 20, 2))


def test_chord_adds_partial_sums(worker):
    header = [partial_sum.s(list(range(i, i + 10))) for i in range(0, 100, 10)]
    assert chord(header)(total.s()).get(timeout=TIMEOUT) == sum(range(100))


def test_unique_words_eagerly():
    """Passes, and proves nothing: in eager mode the set never has to become JSON."""
    app.conf.task_always_eager = True
    try:
        assert unique_words.delay("a b a").get() == {"a", "b"}
    finally:
        app.conf.task_always_eager = False


def test_unique_words_for_real(worker):
    """The same call through a worker: the result cannot be stored as JSON."""
    with pytest.raises(EncodeError):
        unique_words.delay("a b a").get(timeout=TIMEOUT)
