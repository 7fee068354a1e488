"""Benefits-admin accounts that exist in the AMS too: they carry its ids, and link to its group by id only."""

import pytest
from django.urls import reverse

from ams.services import customer_sync
from integrations.clients.ams360 import ams360_client
from integrations.clients.benefitpoint import benefitpoint_client
from integrations.registry import external_id_lookup
from plans.models import EmployerGroup
from tests.plans.factories import EmployerGroupFactory

pytestmark = pytest.mark.django_db


def _ams_group(customer_number: int, capture) -> tuple[str, EmployerGroup]:
    """The AMS's commercial customer ``customer_number``, synced into an employer group (linked by its id)."""
    client = ams360_client()
    customer_id = client.customer_by_number(customer_number)["CustomerId"]
    with capture(execute=True):
        customer_sync(client=client, customer_id=customer_id)
    group = external_id_lookup(system="ams", object_type="customer", external_id=customer_id)
    assert isinstance(group, EmployerGroup)
    return customer_id, group


def test_accounts_in_both_systems_carry_the_ams_customer_ids(ams_sandbox, benefitpoint):
    with benefitpoint_client() as client:
        both, only_here = client.get_account(40001), client.get_account(40010)
    info = both["groupAccountInfo"]["accountIntegrationInfo"]
    customer = ams360_client().customer_by_number(int(info["amsCustomerNumber"]))
    assert customer["CustomerId"] == info["amsCustomerId"] and customer["IsCommercial"] in (True, 1, "true")
    assert not (only_here["groupAccountInfo"].get("accountIntegrationInfo") or {}).get("amsCustomerId")


def test_importing_an_account_links_the_group_its_ams_customer_id_names(api, ams_sandbox, benefitpoint, django_capture_on_commit_callbacks):
    customer_id, group = _ams_group(5, django_capture_on_commit_callbacks)  # account 40001 carries customer 5's id
    name, groups = group.name, EmployerGroup.objects.count()
    EmployerGroupFactory(name="Summit Tech Solutions, Inc.")  # the account's name: never used to link
    other = EmployerGroupFactory(name="Unrelated Group")
    refused = api.post("/api/plan-sync-links/", {"account_id": 40001, "group": other.pk}, format="json")
    assert refused.status_code == 400 and customer_id in str(refused.json())
    reply = api.post("/api/plan-sync-links/", {"account_id": 40001}, format="json")
    assert reply.status_code == 201, reply.json()
    assert reply.json()["group"] == group.pk
    assert EmployerGroup.objects.count() == groups + 2  # only the two made above: none created by the import
    group.refresh_from_db()
    assert group.name == name  # the AMS is the source of truth for the group's fields
    listed = api.get("/api/external-ids/", {"record_type": "employergroup", "object_id": group.pk}).json()["results"]
    ids = {(r["system"], r["object_type"]): r["external_id"] for r in listed}
    assert ids[("ams", "customer")] == customer_id and ids[("benefits_admin", "account")] == "40001"


def test_an_account_without_an_ams_id_is_imported_into_a_new_group(api, ams_sandbox, benefitpoint, django_capture_on_commit_callbacks):
    _ams_group(5, django_capture_on_commit_callbacks)
    reply = api.post("/api/plan-sync-links/", {"account_id": 40010}, format="json")
    assert reply.status_code == 201, reply.json()
    assert EmployerGroup.objects.get(pk=reply.json()["group"]).name == "Riverbend Dental Group LLC"


def test_account_and_contact_edits_there_stay_there_and_are_marked_wont_reach_the_agency_system(
    api, admin_client, ams_sandbox, benefitpoint, django_capture_on_commit_callbacks
):
    customer_id, group = _ams_group(5, django_capture_on_commit_callbacks)
    linked = api.post("/api/plan-sync-links/", {"account_id": 40001}, format="json").json()
    plain = api.post("/api/plan-sync-links/", {"account_id": 40010}, format="json").json()  # no AMS customer
    before, name = ams360_client().customer_get(customer_id), group.name
    with benefitpoint_client() as client:
        client.call(
            "updateAccount",
            account={
                "accountID": 40001,
                "groupAccountInfo": {"accountName": "Summit Tech Renamed There", "DBA": "Summit There", "businessType": "Corporation"},
            },
        )
        contact = client.find_account_contacts(40001)[0]
        client.call("updateAccountContact", accountContact={**contact, "contact": {**contact["contact"], "email": "new@there.example"}})
        client.call(
            "updateAccount", account={"accountID": 40010, "groupAccountInfo": {"accountName": "Riverbend Renamed", "businessType": "Corporation"}}
        )
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(f"/api/plan-sync-links/{linked['id']}/sync/").status_code == 202
    rows = {(r["object_id"], r["object_type"]): r for r in api.get("/api/external-ids/", {"system": "benefits_admin"}).json()["results"]}
    note = rows[(group.pk, "account")]
    assert note["last_sync_reason"] == (
        "Account data and Contacts edited in the benefits-admin system: stays there, won't reach the agency system (the AMS owns it)."
    )
    assert note["last_change_seen_at"] and note["last_sync_outcome"] == "succeeded"
    assert rows[(plain["group"], "account")]["last_sync_reason"] == ""  # no AMS behind that group: nothing to say
    assert ams360_client().customer_get(customer_id) == before  # never pushed to the AMS
    group.refresh_from_db()
    assert group.name == name and group.dba != "Summit There"  # nor copied here: the AMS owns the group's fields
    panel = admin_client.get(reverse("admin:plans_employergroup_change", args=[group.pk])).content.decode()
    assert "won&#x27;t reach the agency system" in panel  # on the Linked systems panel
    with benefitpoint_client() as client:  # and it stays there
        assert client.get_account(40001)["groupAccountInfo"]["DBA"] == "Summit There"


def _add_plan(benefitpoint, account_id: int, number: str) -> int:
    return benefitpoint.add(
        accountID=account_id,
        productTypeID=101,
        productStatus="Current",
        name=f"Added there {number}",
        carrierID=2001,
        policyNumber=number,
        effectiveAsOf="2026-07-01",
        renewalOn="2027-07-01",
        billingType="Agency_Bill",
        rateTiers=[{"description": d, "monthlyPremium": "600.00"} for d in ("Employee Only", "Employee + Spouse", "Employee + Child(ren)", "Family")],
    )


def _sync(api, link_id, capture):
    with capture(execute=True):
        assert api.post(f"/api/plan-sync-links/{link_id}/sync/").status_code == 202


def test_a_plan_added_there_becomes_one_ams_policy_even_when_the_insert_answer_is_lost(
    api, ams_sandbox, benefitpoint, django_capture_on_commit_callbacks
):
    customer_id, group = _ams_group(5, django_capture_on_commit_callbacks)
    link = api.post("/api/plan-sync-links/", {"account_id": 40001}, format="json").json()
    plain = api.post("/api/plan-sync-links/", {"account_id": 40010}, format="json").json()
    assert group.pk == link["group"]
    ams = ams360_client()
    numbers = lambda number: [p for p in ams.policies(customer_id) if p["PolicyNumber"] == number]  # noqa: E731
    product_id = _add_plan(benefitpoint, 40001, "NEW-1")
    _add_plan(benefitpoint, 40010, "NEW-2")  # an account with no AMS customer: no policy anywhere
    ams_sandbox.knobs(fault_rate=1.0)
    _sync(api, link["id"], django_capture_on_commit_callbacks)  # the AMS fails: nothing yet, the plan waits
    ams_sandbox.knobs(fault_rate=0.0)
    assert numbers("NEW-1") == []
    # as if that insert had been done and only its answer lost: the next pass finds it instead of inserting again
    lost = ams.policy_insert(
        {"CustomerId": customer_id, "PolicyNumber": "NEW-1", "PolicyType": "GRPBEN", "PolicyEffectiveDate": "2026-07-01", "PolicyStatus": "Active"}
    )
    _sync(api, link["id"], django_capture_on_commit_callbacks)
    _sync(api, plain["id"], django_capture_on_commit_callbacks)
    assert [p["PolicyId"] for p in numbers("NEW-1")] == [lost]
    assert not ams.policies_by_number("NEW-2")
    assert benefitpoint.product(product_id)["policyIntegrationInfo"]["amsPolicyID"] == lost  # stamped there
    linked = external_id_lookup(system="ams", object_type="policy", external_id=lost)  # linked in the registry
    assert (linked.product_id, linked.ams_policy_id) == (product_id, lost)
    # a plan added later: one pass, one policy, and later passes add nothing
    second = _add_plan(benefitpoint, 40001, "NEW-3")
    for _ in range(2):
        _sync(api, link["id"], django_capture_on_commit_callbacks)
    (policy,) = numbers("NEW-3")
    assert (str(policy["PolicyEffectiveDate"])[:10], policy["PolicyStatus"]) == ("2026-07-01", "Active")
    assert benefitpoint.product(second)["policyIntegrationInfo"]["amsPolicyID"] == policy["PolicyId"]
    assert len(numbers("NEW-1")) == 1
