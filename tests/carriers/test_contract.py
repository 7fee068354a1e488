"""The contract checker itself (it must be able to fail), the client's tolerant reading, the sandbox's own refusals."""

import io

import pytest
import requests
from django.core.management import call_command

from carriers.mapping import CONNECTION_STATUS_LABELS, member_from_noyo, normalize_ein
from integrations.clients.noyo import CONNECTION_STATUSES, status_label
from sandbox import noyo_contract

from .factories import connected_group


def _examples():
    """The spec's own response examples: the notes say 12 of its examples do not validate."""
    for template, item in noyo_contract.spec()["paths"].items():
        for method, op in item.items():
            if not isinstance(op, dict):
                continue
            for code, response in op.get("responses", {}).items():
                example = response.get("content", {}).get("application/json", {}).get("example")
                if example is not None:
                    path = template.replace("{", "").replace("}", "")
                    path = "/".join("3fa85f64-5717-4562-b3fc-2c963f66afa6" if p.endswith("_id") else p for p in path.split("/"))
                    yield method, path, int(code), example


def test_the_checker_rejects_the_specs_own_invalid_examples():
    failing = [v for method, path, code, example in _examples() if (v := noyo_contract.response_violations(method, path, code, example))]
    flat = " ".join(" ".join(v) for v in failing)
    assert len(failing) >= 10
    assert "'setup_metadata' is a required property" in flat
    assert "'pending_resolution' is not one of" in flat


def test_the_checker_checks_requests():
    assert noyo_contract.request_violations("POST", "/api/v1/group_connections", body={"carrier_id": "nope"})
    assert noyo_contract.request_violations("GET", "/api/v1/groups", query={"page_size": "ten"})
    assert noyo_contract.request_violations("DELETE", "/api/v1/groups", body=None)
    assert not noyo_contract.request_violations(
        "POST",
        "/api/v1/group_connections",
        body={"carrier_id": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "group_data": {"carrier_group_id": "A", "group_name": "B"}},
    )


def test_status_labels_cover_the_contract_and_tolerate_new_ones():
    assert set(CONNECTION_STATUS_LABELS) == set(CONNECTION_STATUSES)
    spec_enum = noyo_contract.spec()["components"]["schemas"]["GroupSetupRequestPublicResult"]["properties"]["status"]["enum"]
    assert set(spec_enum) == set(CONNECTION_STATUSES)
    assert status_label("waiting_on_carrier", CONNECTION_STATUS_LABELS) == "Waiting on the carrier"
    assert status_label("carrier_paused", CONNECTION_STATUS_LABELS) == "unknown: carrier_paused"
    assert status_label(None, CONNECTION_STATUS_LABELS) == "unknown: (none)"


@pytest.mark.parametrize(
    ("raw", "ein"), [("123456789", "12-3456789"), (" 12-3456789 ", "12-3456789"), ("12-345678", None), ("ab-cdefghi", None), ("", None)]
)
def test_ein_format(raw, ein):
    assert normalize_ein(raw) == ein


def test_member_reading_is_tolerant():
    member = member_from_noyo(
        {
            "id": "x",
            "person": {"first_name": "Ann", "contact": {"email_address": "ANN@X.COM"}},
            "employment": {"employment_dates": {"hire_date": "not a date"}},
            "classifications": "odd",
            "surprise": {"field": 1},
        }
    )
    assert member["first_name"] == "Ann" and member["email"] == "ann@x.com"
    assert member["hire_date"] is None and member["coverage_tier"] == "" and member["custom_individual_id"] == ""


def test_sandbox_refuses_bad_tokens_and_bad_requests_and_throttles(sandbox):
    # deliberately off-contract requests: not through the ``noyo`` fixture, whose checker would (rightly) fail them
    base = f"{sandbox.url}/noyo"
    assert requests.get(f"{base}/api/v1/groups", timeout=5).status_code == 401
    assert requests.post(f"{base}/auth/token", auth=("agencydesk", "wrong"), data={"grant_type": "client_credentials"}, timeout=5).status_code == 401
    token = requests.post(
        f"{base}/auth/token", auth=("agencydesk", "sandbox-noyo-secret"), data={"grant_type": "client_credentials"}, timeout=5
    ).json()
    assert token["expires_in"] == 600_000  # ten minutes, in milliseconds
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    bad = requests.post(f"{base}/api/v1/group_connections", json={"group_data": {}}, headers=headers, timeout=5)
    assert bad.status_code == 400 and "carrier_id" in bad.json()["error"]["message"]
    sandbox.knobs(throttle_rate=1.0, retry_after=9)
    throttled = requests.get(f"{base}/api/v1/groups", headers=headers, timeout=5)
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "9"
    sandbox.knobs(throttle_rate=0.0)
    requests.post(f"{sandbox.url}/_sandbox/noyo/expire-tokens", timeout=5)
    assert requests.get(f"{base}/api/v1/groups", headers=headers, timeout=5).status_code == 401


@pytest.mark.django_db
def test_seed_command_sends_the_groups_own_data(noyo):
    group, carrier = connected_group(members=10)
    out = io.StringIO()
    call_command(
        "carriers_sandbox_seed",
        "--group",
        group.account_number,
        "--carrier",
        carrier.code,
        "--carrier-group-id",
        "CG-9",
        "--share",
        "0.5",
        stdout=out,
    )
    # five of ten differ: one of them missing at the carrier, one member only the carrier has, and the plan
    assert "Seeded 10 members for CG-9; 7 differences planted." in out.getvalue()


@pytest.mark.django_db
def test_sandbox_control_page_shows_connections_and_sets_knobs(noyo, agency_admin):
    from carriers.services import connection_request

    group, carrier = connected_group(members=1)
    noyo.seed(carrier_group_id="CG-PAGE", employees=[], plans=[])
    connection_request(actor=agency_admin, employer_group=group, carrier=carrier, carrier_group_id="CG-PAGE")
    page = requests.get(f"{noyo.url}/_sandbox/noyo/", timeout=5).text
    assert "CG-PAGE" in page and "created" in page
    requests.post(f"{noyo.url}/_sandbox/noyo/", data={"step_seconds": "30"}, timeout=5)
    assert noyo.knobs()["step_seconds"] == 30.0
    assert "/_sandbox/noyo/" in requests.get(f"{noyo.url}/_sandbox/", timeout=5).text
