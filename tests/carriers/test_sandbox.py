"""The carrier-connection stand-in (Noyo subset) answers what its spec documents and refuses what it refuses
(the full property-based run is ``bin/contract-noyo``; these pin the cases it found)."""

import uuid

import pytest
import requests

from sandbox import noyo_contract

CARRIER = "3fa85f64-5717-4562-b3fc-2c963f66afa6"


@pytest.fixture
def api(sandbox):
    token = requests.post(
        f"{sandbox.url}/noyo/auth/token", auth=("agencydesk", "sandbox-noyo-secret"), data={"grant_type": "client_credentials"}, timeout=5
    ).json()["access_token"]
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    base = f"{sandbox.url}/noyo"

    def call(method: str, path: str, **kwargs) -> requests.Response:
        reply = http.request(method, base + path, timeout=5, **kwargs)
        if reply.status_code < 300:  # whatever it accepts, it answers as documented
            assert noyo_contract.response_violations(method, path.split("?")[0], reply.status_code, reply.json()) == []
        return reply

    yield call
    assert requests.get(f"{sandbox.url}/_sandbox/noyo/violations", timeout=5).json()["count"] == 0


def test_a_group_is_created_then_connected_to_a_carrier(api):
    # when: a group is created on its own, then connected to a carrier
    created = api("POST", "/api/v1/groups", json={"name": "Acme Flooring", "dba_name": "Floors R Us", "sic_code": "5713"})
    assert created.status_code == 201
    group = created.json()
    assert api("GET", f"/api/v1/groups/{group['id']}").json()["dba_name"] == "Floors R Us"
    connected = api(
        "POST",
        f"/api/v1/groups/{group['id']}/group_connections",
        json={"carrier_id": CARRIER, "group_data": {"carrier_group_id": "CG-77"}, "data_exchange_configuration": "api"},
    )
    # then: the connection belongs to that group, named after it, and the group is found by its carrier
    assert connected.status_code == 201
    connection = connected.json()
    assert connection["group_id"] == group["id"] and connection["status"] == "created"
    assert connection["group_data"] == {"carrier_group_id": "CG-77", "group_name": "Acme Flooring"}
    assert connection["setup_data"] == {"data_exchange_configuration": "api"}
    assert [g["id"] for g in api("GET", f"/api/v1/groups?carrier_id={CARRIER}").json()["response"]] == [group["id"]]
    assert [g["id"] for g in api("GET", "/api/v1/groups?carrier_group_id=CG-77").json()["response"]] == [group["id"]]
    assert api("GET", f"/api/v1/groups?group_ids={uuid.uuid4()},{group['id']}").json()["meta"]["total_records"] == 1
    listed = api("GET", f"/api/v1/groups/{group['id']}/group_connections").json()["response"]
    assert [c["id"] for c in listed] == [connection["id"]]


def test_a_second_connection_to_the_same_carrier_and_an_unknown_group_are_refused(api):
    group = api("POST", "/api/v1/groups", json={"name": "Twice"}).json()
    body = {"carrier_id": CARRIER, "group_data": {"carrier_group_id": "CG-1"}}
    assert api("POST", f"/api/v1/groups/{group['id']}/group_connections", json=body).status_code == 201
    again = api("POST", f"/api/v1/groups/{group['id']}/group_connections", json=body)
    assert again.status_code == 409 and "retry that one" in again.json()["error"]["message"]
    assert api("POST", f"/api/v1/groups/{uuid.uuid4()}/group_connections", json=body).status_code == 404
    other_org = api("POST", "/api/v1/groups", json={"name": "Not ours", "organization_id": str(uuid.uuid4())})
    assert other_org.status_code == 403
    assert api("POST", "/api/v1/groups", json={"dba_name": "No name"}).status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/discrepancies?subject_id=",
        "/api/v1/group_connections?organization_id=",
        "/api/v1/groups?page_size=",
        "/api/v1/discrepancies?carrier_id=not-a-uuid",
    ],
)
def test_an_empty_or_malformed_value_is_refused_like_any_other(api, path):
    reply = api("GET", path)
    assert reply.status_code == 400, reply.text
    assert reply.json()["error"]["code"] == "invalid_request"


def test_a_plans_carrier_filter_must_be_a_uuid(api):
    group = api("POST", "/api/v1/groups", json={"name": "Plans"}).json()
    assert api("GET", f"/api/v1/groups/{group['id']}/plans?carrier_id=").status_code == 400


@pytest.mark.parametrize(
    "query",
    [
        "offset=58979021710583234560",
        "page_size=-18551442820076928",
        "offset=-5&page_size=0",
        "page_size=907730940&offset=175427379318493969786530168832",
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/groups", "/api/v1/group_connections", "/api/v1/discrepancies"])
def test_any_integer_paging_is_answered_with_a_page_not_a_server_error(api, path, query):
    api("POST", "/api/v1/groups", json={"name": "One group"})
    reply = api("GET", f"{path}?{query}")
    assert reply.status_code == 200
    meta = reply.json()["meta"]
    assert 1 <= meta["page_size"] <= 1000 and 0 <= meta["offset"] < 2**31 and meta["page_num"] < 2**31
