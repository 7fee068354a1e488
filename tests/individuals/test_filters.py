import datetime

import pytest
from django.http import QueryDict

from individuals.filters import IndividualFilterSet
from individuals.models import CustomField, Individual, Policy
from individuals.selectors import individual_list

from .factories import CarrierFactory, CustomFieldFactory, IndividualFactory, PolicyFactory

pytestmark = pytest.mark.django_db
MA, DENTAL, SUPP = Policy.CoverageType.MEDICARE_ADVANTAGE, Policy.CoverageType.DENTAL, Policy.CoverageType.MEDICARE_SUPPLEMENT
ACTIVE, TERMINATED = Policy.Status.ACTIVE, Policy.Status.TERMINATED


def search(criteria, queryset=None):
    fs = IndividualFilterSet(data=criteria, queryset=queryset if queryset is not None else Individual.objects.all())
    assert fs.is_valid(), fs.errors
    return set(fs.qs)


def errors(criteria):
    fs = IndividualFilterSet(data=criteria, queryset=Individual.objects.all())
    assert not fs.is_valid()
    return fs.errors


def test_policy_criteria_must_match_the_same_policy():
    # given: one person with Active Dental + Terminated MA, one with an Active MA
    mixed = IndividualFactory()
    PolicyFactory(individual=mixed, coverage_type=DENTAL, status=ACTIVE)
    PolicyFactory(individual=mixed, coverage_type=MA, status=TERMINATED)
    target = IndividualFactory()
    PolicyFactory(individual=target, coverage_type=MA, status=ACTIVE)

    # then: "Medicare Advantage + Active" finds only the one whose MA policy is active
    assert search({"coverage_type": [MA], "policy_status": [ACTIVE]}) == {target}
    assert search({"coverage_type": [MA]}) == {mixed, target}
    assert search({"policy_status": [ACTIVE]}) == {mixed, target}


def test_same_policy_rule_holds_for_dates_and_carrier():
    humana, aetna = CarrierFactory(), CarrierFactory()
    person = IndividualFactory()
    PolicyFactory(individual=person, carrier=humana, coverage_type=MA, effective_date=datetime.date(2020, 1, 1))
    PolicyFactory(individual=person, carrier=aetna, coverage_type=DENTAL, effective_date=datetime.date(2025, 3, 1))
    criteria = {"carrier": [humana.pk], "policy_effective_after": "2025-01-01"}
    assert search(criteria) == set()
    assert search({"carrier": [aetna.pk], "policy_effective_after": "2025-01-01"}) == {person}


def test_three_policy_criteria_and_date_range_in_one_exists_query(django_assert_num_queries):
    person = IndividualFactory()
    PolicyFactory(individual=person, coverage_type=SUPP, status=ACTIVE, renewal_date=datetime.date(2026, 6, 1))
    fs = IndividualFilterSet(
        data={"coverage_type": [MA, SUPP], "policy_status": [ACTIVE], "policy_renewal_after": "2026-05-01", "policy_renewal_before": "2026-06-30"},
        queryset=Individual.objects.all(),
    )
    assert fs.is_valid()
    sql = str(fs.qs.query).upper()
    assert sql.count("EXISTS") == 1
    assert "JOIN" not in sql.split("EXISTS")[0]  # no join of policies onto the individuals
    with django_assert_num_queries(1):
        assert list(fs.qs) == [person]


def test_several_coverage_types_match_any_of_them():
    a, b, c = IndividualFactory(), IndividualFactory(), IndividualFactory()
    PolicyFactory(individual=a, coverage_type=MA)
    PolicyFactory(individual=b, coverage_type=SUPP)
    PolicyFactory(individual=c, coverage_type=DENTAL)
    assert search({"coverage_type": [MA, SUPP]}) == {a, b}
    assert search(QueryDict("coverage_type=medicare_advantage&coverage_type=dental")) == {a, c}
    assert search({"coverage_type": "medicare_advantage,dental"}) == {a, c}


def test_renewal_range_and_policy_number():
    person = IndividualFactory()
    PolicyFactory(individual=person, renewal_date=datetime.date(2026, 10, 15), policy_number="H1234")
    IndividualFactory()
    assert search({"policy_renewal_after": "2026-10-01", "policy_renewal_before": "2026-10-31"}) == {person}
    assert search({"policy_renewal_before": "2026-09-30"}) == set()
    assert search({"policy_number": "h1234"}) == {person}


@pytest.mark.parametrize(
    ("field", "value", "criteria"),
    [
        ("first_name", "Margaret", {"first_name": "marg"}),
        ("last_name", "Okafor", {"last_name": "oka"}),
        ("middle_name", "Jo", {"middle_name": "j"}),
        ("nickname", "Peggy", {"nickname": "egg"}),
        ("title", "Dr.", {"title": "dr."}),
        ("email", "m.ok@example.org", {"email": "ok@example"}),
        ("secondary_email", "peggy@home.net", {"email": "peggy@"}),
        ("secondary_email", "peggy@home.net", {"secondary_email": "home.net"}),
        ("cell_phone", "512-555-0199", {"phone": "555-0199"}),
        ("home_phone", "512-555-0100", {"home_phone": "0100"}),
        ("address_type", "mailing", {"address_type": ["mailing"]}),
        ("address_line1", "12 Oak Street", {"address_line1": "oak st"}),
        ("address_line2", "Apt 4", {"address_line2": "apt"}),
        ("city", "Austin", {"city": "austin"}),
        ("county", "Travis", {"county": "TRAVIS"}),
        ("zip_code", "78701", {"zip_code": "787"}),
        ("state", "NM", {"state": ["NM", "AZ"]}),
        ("gender", "female", {"gender": ["female"]}),
        ("record_status", "prospect", {"record_status": ["prospect"]}),
        ("smoker_status", "former", {"smoker_status": ["former"]}),
        ("lead_source", "Seminar", {"lead_source": "seminar"}),
        ("date_of_birth", datetime.date(1950, 2, 1), {"date_of_birth_after": "1950-01-01", "date_of_birth_before": "1950-12-31"}),
        ("medicare_part_a_effective", datetime.date(2015, 2, 1), {"medicare_part_a_effective_after": "2015-01-01"}),
        ("medicare_part_b_effective", datetime.date(2016, 2, 1), {"medicare_part_b_effective_before": "2016-03-01"}),
    ],
)
def test_each_individual_field_filter(field, value, criteria):
    match = IndividualFactory(**{field: value})
    IndividualFactory(first_name="Zed", last_name="Zulu", email="zz@zz.zz", date_of_birth=datetime.date(1980, 1, 1))
    assert search(criteria) == {match}


def test_servicing_agent_filters():
    from tests.accounts.factories import AgentFactory

    agent = AgentFactory()
    with_agent = IndividualFactory(servicing_agent=agent)
    without = IndividualFactory()
    assert search({"servicing_agent": [agent.pk]}) == {with_agent}
    assert search({"no_servicing_agent": "true"}) == {without}
    assert search({"has_policy": "false"}) == {with_agent, without}


def test_personal_data_exact_search_through_the_hash():
    person = IndividualFactory(ssn="123-45-6789", medicare_beneficiary_id="1EG4-TE5-MK73", drivers_license="D1234567")
    IndividualFactory(ssn="123-45-6780")
    assert search({"ssn": "123456789"}) == {person}
    assert search({"ssn": "123-45-6789"}) == {person}
    assert search({"medicare_beneficiary_id": "1eg4te5mk73"}) == {person}
    assert search({"drivers_license": "d1234567"}) == {person}
    assert search({"ssn": "123-45-6781"}) == set()


def test_custom_field_filters_by_type():
    CustomFieldFactory(key="hobby", field_type=CustomField.FieldType.TEXT)
    CustomFieldFactory(key="plan_year", field_type=CustomField.FieldType.NUMBER)
    CustomFieldFactory(key="contacted", field_type=CustomField.FieldType.DATE)
    CustomFieldFactory(key="vip", field_type=CustomField.FieldType.CHECKBOX)
    CustomFieldFactory(key="tier", field_type=CustomField.FieldType.DROPDOWN, options=["Gold", "Silver"])
    CustomFieldFactory(key="interests", field_type=CustomField.FieldType.CHECKBOX_LIST, options=["Dental", "Travel"])
    a = IndividualFactory(
        custom_fields={
            "hobby": "Fly fishing",
            "plan_year": 2026,
            "contacted": "2025-06-01",
            "vip": True,
            "tier": "Gold",
            "interests": ["Dental", "Travel"],
        }
    )
    b = IndividualFactory(custom_fields={"hobby": "Golf", "plan_year": 2025, "contacted": "2024-06-01", "tier": "Silver", "interests": ["Travel"]})
    assert search({"cf_hobby": "fishing"}) == {a}
    assert search({"cf_plan_year": "2026"}) == {a}
    assert search({"cf_plan_year_min": "2025", "cf_plan_year_max": "2025"}) == {b}
    assert search({"cf_contacted_min": "2025-01-01"}) == {a}
    assert search({"cf_vip": "true"}) == {a}
    assert search({"cf_vip": "false"}) == {b}
    assert search({"cf_tier": ["Silver"]}) == {b}
    assert search({"cf_interests": ["Dental"]}) == {a}
    assert search({"cf_interests": ["Travel"]}) == {a, b}


def test_no_criteria_finds_everyone():
    people = {IndividualFactory(), IndividualFactory()}
    assert search({}) == people


@pytest.mark.parametrize(
    ("criteria", "field"),
    [
        ({"policy_effective_after": "2025-13-45"}, "policy_effective"),
        ({"date_of_birth_before": "yesterday"}, "date_of_birth"),
        ({"coverage_type": ["timeshare"]}, "coverage_type"),
        ({"policy_status": "alive"}, "policy_status"),
        ({"state": ["XX"]}, "state"),
        ({"carrier": ["999999"]}, "carrier"),
        ({"ssn": "12-34"}, "ssn"),
        ({"medicare_beneficiary_id": "not-an-mbi"}, "medicare_beneficiary_id"),
        ({"nonsense": "1"}, "nonsense"),
        ({"has_policy": "perhaps"}, "has_policy"),
        ({"no_servicing_agent": "maybe"}, "no_servicing_agent"),
        ({"date_of_birth": "1950-01-01"}, "date_of_birth"),
        ({"first_name": ["Ann", "Bob"]}, "first_name"),
        ({"last_name": "x" * 201}, "last_name"),
    ],
)
def test_invalid_criteria_give_field_errors_and_no_results(criteria, field):
    IndividualFactory()
    fs = IndividualFilterSet(data=criteria, queryset=Individual.objects.all())
    assert not fs.is_valid()
    assert field in fs.errors
    assert list(fs.qs) == []


def test_custom_field_filter_rejects_a_wrong_type_value():
    CustomFieldFactory(key="plan_year", field_type=CustomField.FieldType.NUMBER)
    CustomFieldFactory(key="tier", field_type=CustomField.FieldType.DROPDOWN, options=["Gold"])
    assert "cf_plan_year" in errors({"cf_plan_year": "twenty"})
    assert "cf_tier" in errors({"cf_tier": ["Bronze"]})


def test_selector_raises_field_errors_and_joins_the_agent(django_assert_num_queries):
    from django.core.exceptions import ValidationError

    IndividualFactory.create_batch(3)
    with pytest.raises(ValidationError) as exc:
        individual_list(filters={"coverage_type": ["nope"]})
    assert "coverage_type" in exc.value.message_dict
    with django_assert_num_queries(1):  # no custom-field criteria: no definitions query, just the page
        rows = list(individual_list(filters={}))
        [str(r.servicing_agent) for r in rows]


def test_criteria_from_a_url_and_a_plain_dict_give_the_same_result():
    from individuals.filters import criteria_dict

    carrier = CarrierFactory()
    person = IndividualFactory(state="FL")
    PolicyFactory(individual=person, carrier=carrier, coverage_type=MA, status=ACTIVE)
    query = QueryDict(f"state=FL&carrier={carrier.pk}&coverage_type=medicare_advantage&coverage_type=dental&page=2")
    criteria = criteria_dict(query)
    assert criteria == {"state": "FL", "carrier": str(carrier.pk), "coverage_type": [MA, DENTAL]}
    assert search(query) == search(criteria) == {person}


def test_personal_data_criteria_become_hashes_for_urls_and_storage():
    from individuals.filters import criteria_clean

    person = IndividualFactory(ssn="123-45-6789", state="TX")
    criteria = criteria_clean({"ssn": "123-45-6789", "state": "TX"})
    assert "ssn" not in criteria and "6789" not in str(criteria)
    assert search(criteria) == {person}


def test_unknown_criteria_are_reported_once():
    fs = IndividualFilterSet(data={"colour": "blue"}, queryset=Individual.objects.all())
    assert not fs.is_valid() and not fs.is_valid()
    assert list(fs.qs) == []
    assert fs.errors == {"colour": ["Unknown search criterion 'colour'."]}


def test_custom_field_definitions_are_read_only_when_a_cf_criterion_is_given(django_assert_num_queries):
    CustomFieldFactory(key="tier", field_type=CustomField.FieldType.DROPDOWN, options=["Gold"])
    with django_assert_num_queries(2):  # the definitions, then the page
        assert list(individual_list(filters={"cf_tier": "Gold"})) == []
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):  # an unknown field's criterion is refused, not ignored
        individual_list(filters={"cf_nope": "x"})
