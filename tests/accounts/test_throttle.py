"""The default API throttle: THROTTLE_USER requests per signed-in user."""

import pytest
from django.core.cache import cache

from accounts.rights import Level


@pytest.fixture
def user_rate(settings):
    cache.clear()
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "user": "3/min"},
    }
    yield
    cache.clear()


def test_a_user_past_the_rate_gets_429_with_retry_after(make_user, user_rate, api_as):
    user = make_user(administration=Level.VISIBLE)
    client = api_as(user)
    codes = [client.get("/api/agents/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = client.get("/api/me/")
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    # another user is counted apart
    assert api_as(make_user(administration=Level.VISIBLE)).get("/api/agents/").status_code == 200


def test_the_default_rate_is_in_the_settings():
    from config.settings import base

    assert base.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["user"] == "1200/min"
    assert base.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] == ["accounts.throttles.AuthenticatedUserRateThrottle"]
