"""The cache setting: per-process memory by default, a Redis shared by all workers when configured."""

from __future__ import annotations

import socket
import uuid

import pytest
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from gridmap.core.worksettings import caches_for
from gridmap.open311.access import throttle
from gridmap.open311.formats import Open311Error

REDIS = ("127.0.0.1", 6379)


def test_the_default_cache_is_per_process_memory():
    assert caches_for("")["default"]["BACKEND"].endswith("LocMemCache")


@pytest.mark.parametrize(
    "url", ["redis://127.0.0.1:6379/3", "rediss://cache.intranet:6380/0", "unix:///run/redis.sock"]
)
def test_a_redis_url_selects_the_redis_cache(url):
    assert caches_for(url) == {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    }


@pytest.mark.parametrize("url", ["memcached://x", "http://redis", "/tmp/cache"])
def test_other_cache_urls_stop_the_start(url):
    with pytest.raises(ImproperlyConfigured):
        caches_for(url)


def _redis_up() -> bool:
    try:
        socket.create_connection(REDIS, timeout=0.5).close()
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_up(), reason="no Redis server on 127.0.0.1:6379")
def test_rate_limits_count_across_processes_in_redis():
    """Two workers are two cache clients: the second sees the first's count and refuses past the limit."""
    import redis

    url = "redis://127.0.0.1:6379/14"
    bucket = f"test-{uuid.uuid4().hex}"
    with override_settings(CACHES=caches_for(url)):
        caches["default"].clear()
        throttle(bucket, "2/min")
        other_worker = redis.Redis.from_url(url)
        keys = [k for k in other_worker.keys("*") if bucket.encode() in k]
        assert len(keys) == 1 and int(other_worker.get(keys[0])) == 1
        other_worker.incr(keys[0])  # the other worker's request
        with pytest.raises(Open311Error) as refused:
            throttle(bucket, "2/min")
        assert refused.value.status == 429
        caches["default"].clear()
