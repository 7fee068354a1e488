"""Customers, contacts and policies from the AMS sandbox over SOAP: by id, as they are now."""

import pytest

from ams.services import customer_sync
from individuals.models import Individual
from integrations.clients.ams360 import ams360_client
from integrations.models import ExternalId
from integrations.registry import external_id_lookup
from plans.models import EmployerGroup

pytestmark = pytest.mark.django_db


def test_a_personal_customer_becomes_one_individual_with_its_policies(ams_sandbox, django_capture_on_commit_callbacks):
    customer_id = ams_sandbox.insert(FirstName="Ada", LastName="Lovelace", Email="ada@example.com", State="TX", ZipCode="78701")
    ams_sandbox.insert_policy(
        CustomerId=customer_id,
        PolicyNumber="MA-1",
        PolicyType="MEDADV",
        WritingCompanyCode="humana",
        PolicyStatus="Active",
        PolicyEffectiveDate="2026-01-01",
        PolicyExpirationDate="2027-01-01",
        FullTermPremium="1200.00",
    )
    client = ams360_client()
    with django_capture_on_commit_callbacks(execute=True):
        outcome = customer_sync(client=client, customer_id=customer_id)
    assert outcome.kind == "created"
    ada = external_id_lookup(system="ams", object_type="customer", external_id=customer_id)
    assert isinstance(ada, Individual) and (ada.first_name, ada.last_name, ada.email) == ("Ada", "Lovelace", "ada@example.com")
    assert [(p.policy_number, p.coverage_type, p.carrier.code) for p in ada.policies.all()] == [("MA-1", "medicare_advantage", "humana")]
    # again: nothing to do, nothing duplicated
    assert customer_sync(client=client, customer_id=customer_id).kind == "unchanged"
    assert Individual.objects.filter(last_name="Lovelace").count() == 1
    crm = {r["external_reference"]: r for r in ams_sandbox.crm_records()}
    assert crm[f"agencydesk:individual:{ada.pk}"]["markers"] == ["AMS synced"]


def test_a_commercial_customer_becomes_a_group_with_its_contacts_primary_first(ams_sandbox, django_capture_on_commit_callbacks):
    customer_id = ams_sandbox.insert(FirmName="Quarry Logistics", IsCommercial=True, FederalTaxIdNumber="12-3456789")
    client = ams360_client()
    client.call("CustomerContactInsert", CustomerContact={"CustomerId": customer_id, "ContactName": "Second Person", "SortOrder": 2})
    client.call("CustomerContactInsert", CustomerContact={"CustomerId": customer_id, "ContactName": "First Person", "SortOrder": 1})
    with django_capture_on_commit_callbacks(execute=True):
        customer_sync(client=client, customer_id=customer_id)
    group = external_id_lookup(system="ams", object_type="customer", external_id=customer_id)
    assert isinstance(group, EmployerGroup) and group.name == "Quarry Logistics" and group.federal_ein == "12-3456789"
    assert [(c.name, c.is_primary) for c in group.contacts.order_by("-is_primary")] == [("First Person", True), ("Second Person", False)]
    assert ExternalId.objects.filter(system="ams", object_type="contact", status="active").count() == 2
    contacts = [r for r in ams_sandbox.crm_records() if r["kind"] == "contact"]
    assert [c["name"] for c in contacts] == ["First Person", "Second Person"]  # the primary contact went first
