"""The webhook's guards (issue 22, items 3 and 4): depth and size limits, a replay window, a throttle, and a
secret of its own in production."""

import json
import uuid
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from ams.models import Notification
from core.api.parsers import MAX_DEPTH

from .test_notifications import URL, note, signed

pytestmark = pytest.mark.django_db


def post_raw(client, body: bytes, signature: str, **extra):
    return client.post(URL, data=body, content_type="application/json", HTTP_X_AMS_SIGNATURE=signature, **extra)


def nested(depth: int) -> dict:
    payload = note(str(uuid.uuid4()))
    payload["Extra"] = json.loads("[" * depth + "]" * depth)
    return payload


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 5000])
def test_a_signed_notification_nested_deep_is_a_400_not_a_500(api_client, depth):
    body, signature = signed(nested(depth)) if depth < 900 else _deep_signed(depth)
    reply = post_raw(api_client, body, signature)
    assert reply.status_code == 400, reply.content
    assert "nested too deep" in reply.json()["detail"]
    assert not Notification.objects.exists()


def _deep_signed(depth: int) -> tuple[bytes, str]:
    """A body too deep for json.dumps to build: written by hand, then signed."""
    import hashlib
    import hmac

    from django.conf import settings

    head = json.dumps(note(str(uuid.uuid4())) | {"SentAt": timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ")})[:-1]
    body = (head + ', "Extra": ' + "[" * depth + "]" * depth + "}").encode()
    return body, "sha256=" + hmac.new(settings.AMS_WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()


def test_a_body_over_the_webhook_limit_is_a_413_before_it_is_read(api_client):
    payload = note(str(uuid.uuid4())) | {"Padding": "x" * 70_000}
    body, signature = signed(payload)
    reply = post_raw(api_client, body, signature)
    assert reply.status_code == 413
    assert "at most 65536" in reply.json()["detail"]
    with override_settings(AMS_WEBHOOK_MAX_BODY_BYTES=200_000):
        assert post_raw(api_client, body, signature).status_code == 202
    assert Notification.objects.count() == 1


def test_an_old_notification_is_refused_as_a_replay(api_client):
    old = (timezone.now() - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    reply = post_raw(api_client, *signed(note(str(uuid.uuid4())) | {"SentAt": old}))
    assert reply.status_code == 400
    assert "replay" in reply.json()["detail"]
    ahead = (timezone.now() + timedelta(minutes=10)).isoformat()
    assert post_raw(api_client, *signed(note(str(uuid.uuid4())) | {"SentAt": ahead})).status_code == 400
    assert not Notification.objects.exists()


def test_a_notification_without_its_time_of_sending_is_refused(api_client):
    payload = note(str(uuid.uuid4()))
    body = json.dumps(payload).encode()  # signed() would add SentAt
    import hashlib
    import hmac

    from django.conf import settings

    signature = "sha256=" + hmac.new(settings.AMS_WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    reply = post_raw(api_client, body, signature)
    assert reply.status_code == 400
    assert "SentAt" in reply.json()["fields"]
    assert not Notification.objects.exists()


def test_a_recent_notification_is_accepted(api_client, django_capture_on_commit_callbacks):
    recent = (timezone.now() - timedelta(seconds=60)).strftime("%Y-%m-%dT%H:%M:%SZ")
    reply = post_raw(api_client, *signed(note(str(uuid.uuid4())) | {"SentAt": recent}))
    assert reply.status_code == 202


def test_the_webhook_is_throttled_per_address(api_client, settings):
    cache.clear()
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "ams_webhook": "3/min"},
    }
    codes = [post_raw(api_client, b"{}", "sha256=nope").status_code for _ in range(5)]
    assert codes == [401, 401, 401, 429, 429]
    cache.clear()
