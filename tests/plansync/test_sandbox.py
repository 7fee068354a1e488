"""The sandbox's benefits-admin system stays faithful: ids are never reused, and its control page edits
accounts and contacts as a person there would (so "edits made there stay there" can be exercised)."""

import datetime

import requests

from integrations.clients.benefitpoint import benefitpoint_client
from sandbox.benefitpoint import SCHEMA_SQL, BenefitPoint
from sandbox.store import Store

NEW = {
    "accountID": 40002,
    "productTypeID": 102,
    "productStatus": "Current",
    "name": "Sandbox dental",
    "carrierID": 2010,
    "effectiveAsOf": "2026-01-01",
    "renewalOn": "2027-01-01",
    "billingType": "Direct_Bill",
}


def _system(path) -> BenefitPoint:
    system = BenefitPoint(Store(path, SCHEMA_SQL))
    system.seed()
    return system


def _create(system: BenefitPoint, name: str) -> int:
    return system.op_createProduct({"product": {**NEW, "name": name}})["result"]["ID"]


def test_a_deleted_plans_id_is_never_given_again_not_even_after_a_restart(tmp_path):
    # given: the newest plan is deleted
    system = _system(tmp_path / "bp.sqlite3")
    newest = _create(system, "Newest")
    assert system.delete_product(newest)
    # when: a plan is added, then again after the process restarts on the same file
    after_delete = _create(system, "After the delete")
    after_restart = _create(_system(tmp_path / "bp.sqlite3"), "After a restart")
    # then: each gets an id of its own
    assert newest < after_delete < after_restart
    rate = system.op_createRate({"rate": {"productID": after_delete, "rateTiers": [{"description": "Employee Only", "monthlyPremium": "10"}]}})[
        "result"
    ]["ID"]
    system.delete_product(after_delete)  # its rate goes with it
    other = system.op_createRate({"rate": {"productID": after_restart, "rateTiers": [{"description": "Employee Only", "monthlyPremium": "10"}]}})[
        "result"
    ]["ID"]
    assert other > rate


def test_a_database_from_before_the_sequences_continues_after_its_highest_id(tmp_path):
    system = _system(tmp_path / "bp.sqlite3")
    highest = _create(system, "Highest")
    with system.store.tx() as db:
        db.execute("DELETE FROM bp_sequence")
    assert _create(system, "Next") == highest + 1


def test_a_reset_gives_the_demo_records_their_usual_ids(tmp_path):
    system = _system(tmp_path / "bp.sqlite3")
    first = system.store.one("SELECT min(product_id) AS p, min(account_id) AS a FROM bp_product")
    _create(system, "Gone at the reset")
    system.reset()
    assert system.store.one("SELECT min(product_id) AS p, min(account_id) AS a FROM bp_product") == first


def test_over_soap_a_new_plan_never_takes_a_deleted_plans_id(benefitpoint):
    with benefitpoint_client() as client:
        newest = client.create_product({**NEW, "planInfo": {"alternativePlanID": "sandbox-newest"}})
        since = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=1)
        benefitpoint.delete(newest)  # a person deletes it there
        again = client.create_product({**NEW, "planInfo": {"alternativePlanID": "sandbox-again"}})
        changes = client.find_changes(since, ["Product"])
    assert again != newest
    assert {d["entityID"] for d in changes["deletions"]} == {newest}
    assert {m["entityID"] for m in changes["modifications"]} == {again}


def test_the_control_page_edits_an_account_and_a_contact_as_edits_made_there(benefitpoint):
    since = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=1)
    contact = requests.get(f"{benefitpoint.url}/_control/contacts", params={"accountID": 40002}, timeout=5).json()["results"][0]
    contact_id = contact["contact"]["contactID"]
    page = requests.get(f"{benefitpoint.url}/accounts/40002", timeout=5).text
    assert "Save account" in page and f'action="/benefitpoint/contacts/{contact_id}"' in page
    # when: a person edits the account and a contact on the page
    reply = requests.post(
        f"{benefitpoint.url}/accounts/40002", data={"accountName": "Pioneer Renamed There", "city": "Denton", "taxpayerID": "12-9999999"}, timeout=5
    )
    assert reply.ok and "Pioneer Renamed There" in reply.text
    requests.post(
        f"{benefitpoint.url}/contacts/{contact_id}", data={"email": "new.address@pioneer.example", "title": "CFO"}, timeout=5
    ).raise_for_status()
    # then: the system holds the edits and reports them, as it would a person's edit there
    with benefitpoint_client() as client:
        account = client.get_account(40002)
        edited = client.get_account_contact(contact_id)
        changes = client.find_changes(since, ["Account", "Account_Contact"])
    assert account["groupAccountInfo"]["accountName"] == "Pioneer Renamed There"
    assert account["mainAddress"]["city"] == "Denton"
    assert account["groupAccountInfo"]["commonGroupAccountInfo"]["taxpayerID"] == "12-9999999"
    assert edited["contact"]["email"] == "new.address@pioneer.example" and edited["title"] == "CFO"
    assert edited["contact"]["firstName"] == contact["contact"]["firstName"]  # a partial edit keeps the rest
    assert {(m["entityType"], m["entityID"]) for m in changes["modifications"]} == {("Account", 40002), ("Account_Contact", contact_id)}


def test_the_control_json_edits_accounts_and_contacts_and_refuses_what_the_system_would(benefitpoint):
    url = benefitpoint.url
    assert requests.patch(f"{url}/_control/accounts/40003", json={"groupAccountInfo": {"DBA": "Renamed"}}, timeout=5).json()["success"]
    refused = requests.patch(f"{url}/_control/accounts/40003", json={"groupAccountInfo": {"accountName": ""}}, timeout=5)
    assert refused.status_code == 400 and "accountName is required" in refused.json()["error"]["message"]
    assert requests.patch(f"{url}/_control/accounts/1", json={}, timeout=5).status_code == 404
    contact = requests.get(f"{url}/_control/contacts", params={"accountID": 40003}, timeout=5).json()["results"][0]
    contact_id = contact["contact"]["contactID"]
    assert requests.patch(f"{url}/_control/contacts/{contact_id}", json={"contact": {"lastName": "Changed"}}, timeout=5).json()["success"]
    assert requests.get(f"{url}/_control/contacts", params={"accountID": "x"}, timeout=5).status_code == 400
    with benefitpoint_client() as client:
        assert client.get_account(40003)["groupAccountInfo"]["DBA"] == "Renamed"
        assert client.get_account_contact(contact_id)["contact"]["lastName"] == "Changed"
