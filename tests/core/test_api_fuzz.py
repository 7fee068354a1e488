"""Property-based fuzzing of every API operation from the OpenAPI schema (schemathesis), as the Agency
Admin and as Read Only: no input, valid or not, gives a server error.

Bounded: ``API_FUZZ_EXAMPLES`` examples per operation and mode (valid / invalid data), no shrinking, a
fixed seed, and a cap on the whole run (``API_FUZZ_SECONDS``). Run by ``.ci/run`` as its own step
(``API_FUZZ=1 bin/test -m fuzz``); skipped in the ordinary suite.
"""

import contextlib
import json
import os
import time

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from rest_framework.test import APIClient
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from accounts.models import SecurityGroup
from tests.accounts.factories import UserFactory
from tests.individuals.factories import IndividualFactory

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "4"))
SECONDS = int(os.environ.get("API_FUZZ_SECONDS", "120"))
PASSWORD = "fuzz-correct-horse"

pytestmark = [
    pytest.mark.fuzz,
    pytest.mark.django_db,
    pytest.mark.skipif(not os.environ.get("API_FUZZ"), reason="API fuzzing runs in its own CI step (API_FUZZ=1)"),
]


def _login(group: str) -> dict:
    user = UserFactory(security_group=SecurityGroup.objects.get(name=group))
    user.set_password(PASSWORD)
    user.save()
    reply = APIClient().post("/api/auth/token/", {"username": user.username, "password": PASSWORD}, format="json")
    assert reply.status_code == 200, reply.content
    return {"Authorization": f"Token {reply.json()['token']}"}


def _fuzz(operation, mode, logins: dict, failures: list) -> None:
    """Call ``operation`` with ``EXAMPLES`` generated cases as each login; server errors go to ``failures``."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def call(case):
        for group, headers in logins.items():
            try:
                case.call_and_validate(headers=headers, checks=[not_a_server_error])
            except (Exception, BaseExceptionGroup) as exc:  # reported together, with the request to replay
                curl = [line.strip() for line in str(exc).splitlines() if "curl " in line]
                failures.append(f"{group}: {operation.method.upper()} {operation.path} ({mode}): {curl[:1]}")

    call()


def test_no_input_gives_a_server_error():
    # given: people to find, page through and fetch; an Agency Admin and a Read Only user logged in by the API
    IndividualFactory.create_batch(3)
    logins = {group: _login(group) for group in ("Agency Admin", "Read Only")}
    raw = json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True), default=str))
    schema = schemathesis.openapi.from_dict(raw)
    schema.app = get_wsgi_application()
    deadline = time.monotonic() + SECONDS
    failures, operations, fuzzed = [], 0, 0

    # when: every operation is called with generated valid and invalid data, as each user
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        if time.monotonic() > deadline:
            continue
        fuzzed += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            with contextlib.suppress(Unsatisfiable):  # no invalid data exists for an operation without inputs
                _fuzz(operation, mode, logins, failures)

    # then: no server error anywhere
    print(f"fuzzed {fuzzed} of {operations} operations, {EXAMPLES} examples per operation and mode, as {list(logins)}")
    assert operations > 100
    assert not failures, f"{len(failures)} server errors:\n" + "\n".join(sorted(set(failures))[:60])
