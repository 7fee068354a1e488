"""The Linked systems panel names what each id stands for, never a bare id."""

import pytest

from ams.selectors import linked_systems
from integrations.registry import external_id_link
from plansync.models import AccountLink
from tests.individuals.factories import IndividualFactory, PolicyFactory
from tests.plans.factories import EmployerGroupFactory

pytestmark = pytest.mark.django_db


def test_a_customer_a_policy_and_an_account_are_named():
    person = IndividualFactory(first_name="Anthony", last_name="Anderson")
    policy = PolicyFactory(individual=person, policy_number="MA-1", coverage_type="medicare_advantage")
    external_id_link(obj=person, system="ams", object_type="customer", external_id="9b2e1c4d-0000-4f00-8000-00000000abcd")
    external_id_link(obj=policy, system="ams", object_type="policy", external_id="5d0c-policy-guid")
    names = {r["external_id"]: r["name"] for r in linked_systems(person)}
    assert names["9b2e1c4d-0000-4f00-8000-00000000abcd"] == "Anthony Anderson"
    assert names["5d0c-policy-guid"] == str(policy) and "MA-1" in names["5d0c-policy-guid"]

    group = EmployerGroupFactory(name="Blue Ridge Dental Group")
    AccountLink.objects.create(group=group, account_id=887766, account_name="Blue Ridge Dental Group (Asheville)")
    external_id_link(obj=group, system="benefits_admin", object_type="account", external_id="887766")
    assert [r["name"] for r in linked_systems(group)] == ["Blue Ridge Dental Group (Asheville)"]
