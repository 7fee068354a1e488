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


def test_two_rosters_seeded_with_the_same_seed_both_complete_with_their_own_members(api, sandbox):
    # given: two carrier groups' rosters planted with the same seed, each with a member only the carrier has
    employees = [
        {"custom_individual_id": str(uuid.UUID(int=n)), "first_name": f"E{n}", "last_name": "Same", "email": f"e{n}@same.example"} for n in range(10)
    ]
    only_carrier = {}
    for carrier_group_id in ("CG-SAME-1", "CG-SAME-2"):
        seeded = requests.post(
            f"{sandbox.url}/_sandbox/noyo/rosters",
            json={"carrier_group_id": carrier_group_id, "employees": employees, "differences": {"share": 0.5, "seed": 7}},
            timeout=5,
        )
        assert seeded.status_code == 201
        only_carrier[carrier_group_id] = {p["noyo_id"] for p in seeded.json()["planted"] if p.get("kind") == "missing_here"}
    assert all(only_carrier.values())
    # when: each group is connected and polled to completed
    found = {}
    for carrier_group_id in only_carrier:
        group = api("POST", "/api/v1/groups", json={"name": carrier_group_id}).json()
        body = {"carrier_id": CARRIER, "group_data": {"carrier_group_id": carrier_group_id}}
        connection = api("POST", f"/api/v1/groups/{group['id']}/group_connections", json=body).json()
        for _ in range(10):
            if connection["status"] == "completed":
                break
            reply = api("GET", f"/api/v1/group_connections/{connection['id']}")
            assert reply.status_code == 200
            connection = reply.json()
        assert connection["status"] == "completed"
        found[carrier_group_id] = {e["id"] for e in api("GET", f"/api/v1/groups/{group['id']}/employees?page_size=100").json()["response"]}
    # then: each carrier group shows its 10 members (one dropped, one only the carrier has), under ids of its own
    for carrier_group_id, ids in found.items():
        assert len(ids) == 10 and only_carrier[carrier_group_id] <= ids
    assert not found["CG-SAME-1"] & found["CG-SAME-2"]
