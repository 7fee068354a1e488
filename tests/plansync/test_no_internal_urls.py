"""Issue 22, item 8: an outside system that does not answer is said so, never where it lives (that is logged)."""

import logging

import pytest

from integrations.clients.benefits_platform import BenefitsPlatformClient
from integrations.http import IntegrationError, RetryPolicy, TransientError

pytestmark = pytest.mark.django_db
UNREACHABLE = "http://127.0.0.1:9/services"


def test_refresh_503_says_what_happened_not_the_internal_url(api, settings, caplog):
    settings.BENEFITS_ADMIN_URL = UNREACHABLE
    settings.BENEFITS_ADMIN_WSDL_URL = f"{UNREACHABLE}/BrokerConnectV4?wsdl"
    with caplog.at_level(logging.WARNING):
        reply = api.post("/api/benefits-admin/accounts/refresh/")
    assert reply.status_code == 503
    detail = reply.json()["detail"]
    assert detail == "The benefits-admin system did not answer; try again."
    assert "127.0.0.1" not in reply.content.decode()
    assert UNREACHABLE in caplog.text  # the address is in the log


def test_client_errors_keep_the_address_in_the_log_only(caplog):
    retry = RetryPolicy(attempts=1, backoff=0.01)
    with caplog.at_level(logging.WARNING), pytest.raises(TransientError) as unreached:
        BenefitsPlatformClient(base_url="http://127.0.0.1:9/benefits", retry=retry).packages()
    assert "127.0.0.1" not in unreached.value.message and "could not be reached" in unreached.value.message
    with caplog.at_level(logging.WARNING), pytest.raises(IntegrationError) as malformed:
        BenefitsPlatformClient(base_url="htp://127.0.0.1:9/benefits", retry=retry).packages()
    assert "127.0.0.1" not in malformed.value.message
    assert "http://127.0.0.1:9/benefits" in caplog.text and "htp://127.0.0.1:9/benefits" in caplog.text
