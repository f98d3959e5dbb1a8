"""The shared stores of the page caches that tests run on (lms.caching): the instance folder's
files, and the Redis database kept for these tests."""

from __future__ import annotations

import os

# A database of its own: the job queue's and the rate limits' tests use others.
PAGE_CACHE_REDIS_URL = os.environ.get("LMS_TEST_REDIS_URL", "redis://127.0.0.1:6379/1")


def page_cache_redis_available() -> bool:
    try:
        import redis

        redis.Redis.from_url(PAGE_CACHE_REDIS_URL, socket_connect_timeout=0.5).ping()
    except Exception:
        return False
    return True
