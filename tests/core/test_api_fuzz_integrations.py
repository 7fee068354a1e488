"""Fuzzing the integration apps (issue 22): the AMS webhook with signed bodies of any JSON shape, and the
plansync / ams / carriers operations as Read Only and as Sales. No input gives a server error, and Read
Only never gets a 2xx on a write.

Runs in the CI fuzz step with ``test_api_fuzz`` (``API_FUZZ=1 bin/test -m fuzz``); skipped otherwise.
"""

import contextlib
import hashlib
import hmac
import json
import time
import uuid

import schemathesis
from django.conf import settings as django_settings
from django.core.wsgi import get_wsgi_application
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from rest_framework.test import APIClient
from schemathesis import GenerationMode

from .test_api_fuzz import EXAMPLES, SECONDS, _fuzz, _login, pytestmark  # noqa: F401 - the fuzz marker and skip

WEBHOOK = "/api/ams/notifications/"
INTEGRATION_PATHS = (
    "/api/ams/",
    "/api/external-ids/",
    "/api/identity-conflicts/",
    "/api/reconciliations/",
    "/api/benefits-admin/",
    "/api/plan-sync-",
    "/api/carrier-connections/",
    "/api/discrepancies/",
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=30,
)
notifications = st.fixed_dictionaries(
    {
        "NotificationId": st.one_of(st.uuids().map(str), json_values),
        "RecordType": st.sampled_from(["Customer", "CustomerContact", "Policy", "", "Other"]) | json_values,
        "RecordId": st.one_of(st.uuids().map(str), json_values),
    },
    optional={
        "CustomerId": json_values,
        "Action": json_values,
        "Extra": json_values,
        "SentAt": st.sampled_from(["", "yesterday", "2001-01-01T00:00:00Z", "9999-12-31T23:59:59+14:00"]) | json_values,
    },
)


def _post_signed(client: APIClient, body: bytes):
    signature = hmac.new(django_settings.AMS_WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return client.post(WEBHOOK, data=body, content_type="application/json", HTTP_X_AMS_SIGNATURE=f"sha256={signature}")


def test_no_signed_webhook_body_gives_a_server_error(monkeypatch):
    # given: the AMS is not called while fuzzing (a stored notification is processed later, by the worker)
    monkeypatch.setattr("ams.services.inbox.on_commit_enqueue", lambda *args, **kwargs: None)
    client, failures = APIClient(), []

    @given(payload=notifications | json_values, stamp=st.booleans())
    @settings(
        max_examples=max(EXAMPLES * 25, 50),
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def call(payload, stamp):
        if stamp and isinstance(payload, dict) and "SentAt" not in payload:
            payload = {**payload, "SentAt": timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ")}
        body = json.dumps(payload).encode()
        reply = _post_signed(client, body)
        if reply.status_code >= 500:
            failures.append(f"{reply.status_code}: {body[:200]!r}")

    # when: signed bodies of every shape, then ones nested past anything a parser takes, and too large
    call()
    head = json.dumps(
        {"NotificationId": str(uuid.uuid4()), "RecordType": "Customer", "RecordId": "c", "SentAt": timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ")}
    )[:-1]
    for depth in (33, 900, 5000, 50_000):
        for body in (
            (head + ', "Extra": ' + "[" * depth + "]" * depth + "}").encode(),
            ("[" * depth + "]" * depth).encode(),
            ('{"a":' * depth + "1" + "}" * depth).encode(),
        ):
            reply = _post_signed(client, body)
            if reply.status_code not in (400, 413):
                failures.append(f"depth {depth}: {reply.status_code}")

    # then: never a server error
    assert not failures, "\n".join(failures[:30])


def test_integration_operations_as_read_only_and_sales_give_no_server_error():
    # given: a Read Only and a Sales user logged in by the API; the integration apps' operations
    logins = {group: _login(group) for group in ("Read Only", "Sales")}
    raw = json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True), default=str))
    schema = schemathesis.openapi.from_dict(raw)
    schema.app = get_wsgi_application()
    deadline = time.monotonic() + SECONDS
    failures, fuzzed = [], 0

    # when: each is called with generated valid and invalid data, as each user
    for result in schema.get_all_operations():
        operation = result.ok()
        if not operation.path.startswith(INTEGRATION_PATHS) or time.monotonic() > deadline:
            continue
        fuzzed += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            with contextlib.suppress(Unsatisfiable):
                _fuzz(operation, mode, logins, failures)

    # then: no server error, and Read Only writes nothing
    print(f"fuzzed {fuzzed} integration operations as {list(logins)}")
    assert fuzzed >= 15
    assert not failures, f"{len(failures)} server errors:\n" + "\n".join(sorted(set(failures))[:60])
    read_only = APIClient()
    read_only.credentials(HTTP_AUTHORIZATION=logins["Read Only"]["Authorization"])
    for path in (
        "/api/external-ids/",
        "/api/identity-conflicts/1/merge/",
        "/api/identity-conflicts/1/separate/",
        "/api/reconciliations/",
        "/api/benefits-admin/accounts/refresh/",
        "/api/plan-sync-links/",
    ):
        assert read_only.post(path, {}, format="json").status_code == 403, path
