"""The quick search (integrations.search): one box, every kind the user may view, grouped, never a full SSN."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.rights import Level
from integrations import search
from integrations.registry import external_id_link
from tests.hrsync.factories import EmployeeFactory
from tests.individuals.factories import IndividualFactory, PolicyFactory
from tests.plans.factories import EmployerGroupFactory

pytestmark = pytest.mark.django_db


def kinds(found) -> dict[str, list[str]]:
    return {g["kind"]: [h.title for h in g["hits"]] for g in found["groups"]}


@pytest.fixture
def andersons():
    one = IndividualFactory(
        first_name="Anthony",
        last_name="Anderson",
        city="Springfield",
        address_line1="12 Elm Street",
        date_of_birth=datetime.date(1950, 2, 3),
        ssn="123-45-6789",
        cell_phone="(555) 010-2233",
    )
    two = IndividualFactory(
        first_name="Anthony",
        last_name="Anderson",
        city="Shelbyville",
        address_line1="4 Oak Road",
        date_of_birth=datetime.date(1961, 7, 8),
        ssn="234-56-4321",
        email="tony@example.com",
    )
    IndividualFactory(first_name="Zed", last_name="Zimmer")
    return one, two


def test_namesakes_are_told_apart_by_birth_date_city_and_masked_ssn_never_the_full_one(agency_admin, andersons):
    found = search.search(agency_admin, "anderson")
    hits = found["groups"][0]["hits"]
    assert found["groups"][0]["kind"] == "individuals" and len(hits) == 2
    details = [" · ".join(h.details) for h in hits]
    assert any("Springfield" in d and "***-**-6789" in d for d in details)
    assert any("Shelbyville" in d and "***-**-4321" in d for d in details)
    assert "123-45-6789" not in str(found) and "234-56-4321" not in str(found)


def test_words_narrow_by_street_phone_digits_match_however_typed_and_email_by_its_start(agency_admin, andersons):
    one, two = andersons
    assert kinds(search.search(agency_admin, "anderson elm"))["individuals"] == ["Anderson, Anthony"]
    found = search.search(agency_admin, "555-010-2233")
    assert [h.pk for h in found["groups"][0]["hits"]] == [one.pk]
    assert [h.pk for h in search.search(agency_admin, "0102233")["groups"][0]["hits"]] == [one.pk]
    assert [h.pk for h in search.search(agency_admin, "tony@exa")["groups"][0]["hits"]] == [two.pk]
    assert search.search(agency_admin, "a")["groups"] == []  # one letter: nothing (the box waits for two)


def test_groups_employees_and_policies_come_grouped_in_order(agency_admin):
    group = EmployerGroupFactory(name="Anderson Roofing")
    EmployeeFactory(employer_group=group, first_name="Andrea", last_name="Anderson")
    holder = IndividualFactory(first_name="Ann", last_name="Anderson")
    PolicyFactory(individual=holder, policy_number="ANDX-1")
    found = search.search(agency_admin, "and")
    assert [g["kind"] for g in found["groups"]] == ["individuals", "groups", "employees", "policies"]
    assert kinds(found)["groups"] == ["Anderson Roofing"]
    assert kinds(found)["policies"][0].startswith("ANDX-1")


def test_a_linked_systems_id_finds_its_record_through_the_registry_never_by_name(agency_admin, andersons):
    one, _ = andersons
    group = EmployerGroupFactory(name="Blue Ridge Dental Group")
    external_id_link(obj=one, system="ams", object_type="customer", external_id="C-10042")
    external_id_link(obj=group, system="benefits_admin", object_type="account", external_id="887766")
    found = search.search(agency_admin, "C-10042")
    assert kinds(found) == {"individuals": ["Anderson, Anthony"]}
    assert found["groups"][0]["hits"][0].matched == "AMS customer number C-10042"
    found = search.search(agency_admin, "887766")
    assert kinds(found) == {"groups": ["Blue Ridge Dental Group"]}
    assert found["groups"][0]["hits"][0].matched == "Benefits-admin account ID 887766"


def test_only_the_kinds_the_user_may_view(make_user, andersons):
    group = EmployerGroupFactory(name="Anderson Roofing")
    EmployeeFactory(employer_group=group, last_name="Anderson")
    plans_only = make_user(plans=Level.VISIBLE)
    assert kinds(search.search(plans_only, "anderson")) == {"groups": ["Anderson Roofing"]}
    external_id_link(obj=andersons[0], system="ams", object_type="customer", external_id="C-1")
    assert search.search(plans_only, "C-1")["groups"] == []  # the id names an individual: not theirs to see
    assert search.search(make_user(), "anderson")["groups"] == []


def test_query_count_is_one_registry_read_plus_one_per_kind_whatever_the_matches(agency_admin, andersons):
    for n in range(12):
        PolicyFactory(individual=andersons[0], policy_number=f"ANDE-{n}")
        EmployeeFactory(last_name=f"Anderson{n}", employer_group=EmployerGroupFactory(name=f"Anderson Co {n}"))
    search.search(agency_admin, "warm")  # permissions cached on the user
    with CaptureQueriesContext(connection) as queries:
        found = search.search(agency_admin, "ande")
    assert {g["kind"] for g in found["groups"]} == {"individuals", "groups", "employees", "policies"}
    individuals_first_page = 1 if connection.vendor == "postgresql" else 0  # the prefix branches' page, then the rest
    assert len(queries) == 1 + 4 + individuals_first_page, [q["sql"] for q in queries]


def test_a_policy_opens_its_holders_client_page_or_the_policy_for_a_user_without_individuals(agency_admin, make_user):
    policy = PolicyFactory(policy_number="MA-123456")
    hit = search.search(agency_admin, "MA-1234")["groups"][0]["hits"][0]
    assert hit.url == f"/admin/individuals/individual/{policy.individual_id}/change/"
    hit = search.search(make_user(policies=Level.VISIBLE), "MA-1234")["groups"][0]["hits"][0]
    assert hit.url == f"/admin/individuals/policy/{policy.pk}/change/"


def test_control_characters_and_long_queries_are_harmless(agency_admin, andersons):
    assert search.parse("ander\x00son\x07").text == "anderson"
    assert len(search.parse("x" * 500).text) == 100
    assert kinds(search.search(agency_admin, "  Anderson\t\n"))["individuals"] == ["Anderson, Anthony", "Anderson, Anthony"]
