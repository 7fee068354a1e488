"""The client base and the benefits platform client, against the sandbox over real HTTP."""

import time

import pytest

from integrations.clients import benefits_platform_client
from integrations.clients.benefits_platform import BenefitsPlatformClient
from integrations.http import AuthError, NotFoundError, RejectedError, RetryPolicy, TransientError

pytestmark = pytest.mark.usefixtures("sandbox")

ACCOUNT = {
    "email": "new.hire@client.example",
    "first_name": "New",
    "last_name": "Hire",
    "date_of_birth": "1991-02-03",
    "hire_date": "2024-01-08",
    "benefits_package": "BASIC",
}


def client(**kwargs) -> BenefitsPlatformClient:
    return (
        benefits_platform_client()
        if not kwargs
        else BenefitsPlatformClient(
            **{
                "base_url": benefits_platform_client().base_url,
                "api_key": "sandbox-benefits-key",
                "read_timeout": 0.5,
                "retry": RetryPolicy(attempts=4, backoff=0.01),
                **kwargs,
            }
        )
    )


def test_finds_a_demo_account_by_email_and_gets_it_by_id():
    found = client().find_by_email("MARIA.GONZALEZ@northwind.example")
    assert found["first_name"] == "Maria"
    assert client().get(found["id"])["email"] == "maria.gonzalez@northwind.example"
    assert client().find_by_email("nobody@nowhere.example") is None
    assert client().get("ACC-9999999") is None


def test_create_with_the_same_idempotency_key_returns_the_same_account(sandbox):
    first = client().create(ACCOUNT, idempotency_key="key-1")
    again = client().create(ACCOUNT, idempotency_key="key-1")
    assert first["id"] == again["id"]
    assert len(sandbox.accounts(ACCOUNT["email"])) == 1


def test_refusals_carry_the_platform_message():
    with pytest.raises(RejectedError) as exc:
        client().create({**ACCOUNT, "benefits_package": "GOLD", "first_name": ""}, idempotency_key="key-2")
    assert "'GOLD' is not a known benefits package" in exc.value.message
    assert exc.value.fields["first_name"] == "is required"
    assert exc.value.status == 422

    with pytest.raises(RejectedError) as exc:
        client().create({**ACCOUNT, "email": "james.chen@northwind.example"}, idempotency_key="key-3")
    assert exc.value.message == "The email james.chen@northwind.example is already used by another account (ACC-0000002)."

    with pytest.raises(NotFoundError):
        client().update("ACC-9999999", {"first_name": "X"}, idempotency_key="key-4")


def test_a_wrong_key_is_an_auth_error():
    with pytest.raises(AuthError, match="refused our credentials"):
        client(api_key="wrong").find_by_email("a@b.example")


def test_update_and_end_coverage():
    account = client().create(ACCOUNT, idempotency_key="key-5")
    assert client().update(account["id"], {"benefits_package": "PREMIUM"}, idempotency_key="k6")["benefits_package"] == "PREMIUM"
    ended = client().end_coverage(account["id"], "2025-06-30", idempotency_key="k7")
    assert (ended["status"], ended["coverage_end_date"]) == ("coverage_ended", "2025-06-30")
    with pytest.raises(RejectedError, match="before the hire date"):
        client().end_coverage(account["id"], "2020-01-01", idempotency_key="k8")


def test_retries_500s_and_timeouts_without_creating_twice(sandbox):
    # given: half the calls fail (some after the write), some are held past the read timeout
    sandbox.knobs(error_rate=0.4, timeout_rate=0.2, hang_seconds=1.0)
    c = client(retry=RetryPolicy(attempts=12, backoff=0.01))
    # when
    # (16 creates: the chance that none of them meets a fault, 0.48 ** 16, is below one in 100,000)
    ids = {c.create({**ACCOUNT, "email": f"retry{i}@client.example"}, idempotency_key=f"retry-{i}")["id"] for i in range(16)}
    # then: each key made exactly one account, though many calls failed
    sandbox.knobs(error_rate=0.0, timeout_rate=0.0)
    assert len(ids) == 16
    for i in range(16):
        assert len(sandbox.accounts(f"retry{i}@client.example")) == 1
    assert c.calls > 16


def test_429_honours_retry_after_then_gives_up_as_transient(sandbox):
    sandbox.knobs(throttle_rate=1.0, retry_after=1)
    c = client(retry=RetryPolicy(attempts=2, backoff=0.01))
    start = time.monotonic()
    with pytest.raises(TransientError, match="429.*gave up after 2 tries"):
        c.packages()
    assert time.monotonic() - start >= 1.0


def test_an_unreachable_platform_is_transient():
    c = BenefitsPlatformClient(base_url="http://127.0.0.1:9/benefits", retry=RetryPolicy(attempts=2, backoff=0.01))
    with pytest.raises(TransientError, match="could not be reached"):
        c.packages()


def test_latency_knob_per_request_header(sandbox):
    c = client()
    c.session.headers["X-Sandbox-Latency-Ms"] = "200"
    start = time.monotonic()
    assert len(c.packages()) == 4
    assert time.monotonic() - start >= 0.2


def test_a_malformed_base_url_is_an_integration_error_not_a_crash():
    from integrations.http import IntegrationError

    c = BenefitsPlatformClient(base_url="htp://127.0.0.1:9/benefits", retry=RetryPolicy(attempts=3, backoff=0.01))
    with pytest.raises(IntegrationError, match="could not be called") as exc:
        c.packages()
    assert c.calls == 1 and not isinstance(exc.value, TransientError)
