"""API throttles count per window, slide (no reset at a window's end) and say when to come back."""

import pytest
from django.core.cache import caches

from accounts.rights import Level
from core.api.throttling import FixedWindowThrottle


@pytest.fixture(params=["locmem", "redis"])
def three_a_minute(request, settings, monkeypatch):
    """THROTTLE_USER = 3/min, counted in the test cache and, with REDIS_URL, in Redis as in production;
    the throttle's clock is the test's (``clock[0]``, seconds)."""
    if request.param == "redis":
        if not settings.REDIS_URL:
            pytest.skip("needs REDIS_URL")
        settings.CACHES = {
            "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": settings.REDIS_URL, "KEY_PREFIX": "test-throttle"}
        }
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "user": "3/min"},
    }
    caches["default"].clear()
    clock = [6_000_000.0]  # the start of a window
    monkeypatch.setattr(FixedWindowThrottle, "timer", lambda self: clock[0])
    yield clock
    caches["default"].clear()


def test_the_rate_holds_across_a_window_end_and_retry_after_is_when_a_request_passes(three_a_minute, make_user, api_as):
    clock = three_a_minute
    client = api_as(make_user(administration=Level.VISIBLE))

    def at(seconds):
        clock[0] = 6_000_000.0 + seconds
        return client.get("/api/me/")

    assert [at(s).status_code for s in (0, 5, 10)] == [200, 200, 200]
    refused = at(15)
    # the next request passes once a third of those three slid out of the minute: at 80 s
    assert refused.status_code == 429 and refused["Retry-After"] == "65"
    # a new window does not wipe the count: at 60 s the last minute still holds three requests
    refused = at(60)
    assert refused.status_code == 429 and refused["Retry-After"] == "20"
    assert at(79).status_code == 429
    assert at(80).status_code == 200
    # refused requests were not counted: one more passes once another third slid out
    assert at(81).status_code == 429
    assert at(100).status_code == 200


def test_each_user_has_a_count_of_their_own(three_a_minute, make_user, api_as):
    first, second = api_as(make_user(administration=Level.VISIBLE)), api_as(make_user(administration=Level.VISIBLE))
    assert [first.get("/api/me/").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert second.get("/api/me/").status_code == 200
