"""A person opens an individual's Linked systems panel and resolves an identity conflict in the browser."""

import pytest

from ams.models import IdentityConflict
from ams.services import customer_sync
from individuals.models import Individual
from integrations.clients.ams360 import ams360_client
from integrations.registry import external_id_lookup


@pytest.mark.browser
def test_linked_systems_panel_and_merging_a_far_side_duplicate(page, ams_sandbox, admin_login, agency_admin):
    # given: two AMS customers with one name, both brought in; then the agency merges them upstream
    client = ams360_client()
    survivor = ams_sandbox.insert(FirstName="Hedy", LastName="Lamarr", City="Vienna")
    duplicate = ams_sandbox.insert(FirstName="Hedy", LastName="Lamarr")
    ams_sandbox.insert_policy(
        CustomerId=duplicate,
        PolicyNumber="LIFE-9",
        PolicyType="LIFE",
        WritingCompanyCode="mutual-of-omaha",
        PolicyStatus="Active",
        PolicyEffectiveDate="2026-02-01",
        PolicyExpirationDate="2027-02-01",
    )
    customer_sync(client=client, customer_id=survivor)
    customer_sync(client=client, customer_id=duplicate)
    hedy = external_id_lookup(system="ams", object_type="customer", external_id=survivor)
    other = external_id_lookup(system="ams", object_type="customer", external_id=duplicate)
    ams_sandbox.merge(survivor, duplicate)
    customer_sync(client=client, customer_id=duplicate)
    conflict = IdentityConflict.objects.get(status="open")
    page = admin_login(agency_admin)

    # when: the individual's page is opened
    page.goto(f"/admin/individuals/individual/{hedy.pk}/change/")
    panel = page.locator("#linked-systems")

    # then: the panel shows the AMS id, the retired duplicate id pointing at it, and the CRM link
    text = panel.inner_text()
    assert "Agency management system" in text and survivor in text and "Succeeded" in text
    assert f"Retired (merged or deleted upstream) → {survivor}" in text and duplicate in text
    assert "CRM" in text
    assert survivor in panel.locator("a", has_text="Open there").first.get_attribute("href")

    # when: the conflict is opened from the queue and merged
    page.goto("/admin/ams/identityconflict/")
    page.click(f"a[href$='/admin/ams/identityconflict/{conflict.pk}/change/']")
    assert "A duplicate was merged in the far-side system" in page.inner_text("#content")
    page.click("#decide-merge-button")
    page.wait_for_selector(".messagelist .success")

    # then: one record remains, with the duplicate's policy, and the decision is recorded
    conflict.refresh_from_db()
    assert conflict.status == IdentityConflict.Status.MERGED and conflict.decided_by == agency_admin
    assert not Individual.objects.filter(pk=other.pk).exists()
    assert [p.policy_number for p in hedy.policies.all()] == ["LIFE-9"]
    assert "Merged" in page.inner_text("#content")
    crm = [r for r in ams_sandbox.crm_records() if r["kind"] == "account" and r["name"] == "Hedy Lamarr"]
    assert [r["external_reference"] for r in crm] == [f"agencydesk:individual:{hedy.pk}"]  # one account in the CRM too
