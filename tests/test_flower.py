"""Flower, the dashboard an instructor opens during a live demo: the `flower:` line of every
chapter's Procfile starts against the private Redis and answers its health check.
(tests/test_01_quickstart.py checks that it lists the tasks chapter 01 ran and that its
task page renders in headless Chromium.)"""

import pytest

from tests.conftest import Lab, flower_env, http_get
from tour import walkthrough
from tour.redis_server import free_port

WITH_FLOWER = [ch for ch in walkthrough.chapters() if "flower" in ch.processes]


def test_every_chapter_lists_flower():
    """Every chapter whose workers run on the learner's Redis (not chapter 09: its scripts
    start their own servers, hosts and workers, and stop them when they end)."""
    assert [ch.name for ch in WITH_FLOWER] == [ch.name for ch in walkthrough.chapters()
                                               if not ch.own_servers]


@pytest.mark.parametrize("chapter", WITH_FLOWER, ids=lambda ch: ch.name)
def test_each_chapter_flower_line_starts(chapter, redis_url, tmp_path):
    port = free_port()
    with Lab(chapter, redis_url) as lab:  # its own scratch copy of the chapter
        lab.start("flower", env=flower_env(port))
        assert http_get(f"http://127.0.0.1:{port}/healthcheck") == "OK"
