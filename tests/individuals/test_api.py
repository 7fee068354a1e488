import datetime

import pytest

from accounts.models import AuditLog
from accounts.rights import Flag, Level
from individuals.models import CustomField, Individual, Policy

from .factories import CarrierFactory, CustomFieldFactory, IndividualFactory, PolicyFactory

pytestmark = pytest.mark.django_db
SSN = "123-45-6789"


def test_list_is_masked_and_paginated_without_a_count(api):
    IndividualFactory.create_batch(3, ssn=SSN)
    response = api.get("/api/individuals/?page_size=2")
    assert response.status_code == 200
    body = response.json()
    assert "count" not in body
    assert len(body["results"]) == 2 and body["next"] and body["previous"] is None
    assert body["results"][0]["ssn"] == "***-**-6789"
    assert SSN not in response.content.decode() and "123456789" not in response.content.decode()
    last = api.get(body["next"]).json()
    assert len(last["results"]) == 1 and last["next"] is None
    assert api.get("/api/individuals/?with_count=true").json()["count"] == 3


def test_list_filters_with_the_advanced_search(api):
    target = IndividualFactory()
    PolicyFactory(individual=target, coverage_type="medicare_advantage", status="active")
    other = IndividualFactory()
    PolicyFactory(individual=other, coverage_type="medicare_advantage", status="terminated")
    PolicyFactory(individual=other, coverage_type="dental", status="active")
    body = api.get("/api/individuals/?coverage_type=medicare_advantage&policy_status=active").json()
    assert [r["id"] for r in body["results"]] == [target.pk]


def test_sorting(api):
    IndividualFactory(last_name="Young", date_of_birth=datetime.date(1950, 1, 1))
    IndividualFactory(last_name="Adams", date_of_birth=datetime.date(1960, 1, 1))
    names = [r["last_name"] for r in api.get("/api/individuals/").json()["results"]]
    assert names == ["Adams", "Young"]
    names = [r["last_name"] for r in api.get("/api/individuals/?ordering=date_of_birth").json()["results"]]
    assert names == ["Young", "Adams"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("policy_effective_after=2025-02-30", "policy_effective"),
        ("coverage_type=timeshare", "coverage_type"),
        ("state=ZZ", "state"),
        ("carrier=424242", "carrier"),
        ("bogus=1", "bogus"),
        ("has_policy=perhaps", "has_policy"),
        ("date_of_birth=1950-01-01", "date_of_birth"),
    ],
)
def test_bad_search_is_400_with_field_errors(api, query, field):
    response = api.get(f"/api/individuals/?{query}")
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize("criteria", [{"last_name": {"a": 1}}, {"state": [["FL"]]}, {"custom": {"x": 1}}])
def test_search_body_values_that_are_not_values_are_a_400(api, criteria):
    response = api.post("/api/individuals/search/", {"criteria": criteria}, format="json")
    assert response.status_code == 400
    assert response.json() == {next(iter(criteria)): ["Must be a value or a list of values."]}


def test_search_body_takes_json_numbers_and_booleans(api):
    person = IndividualFactory(zip_code="33101")
    PolicyFactory(individual=person)
    IndividualFactory(zip_code="33101")
    response = api.post("/api/individuals/search/", {"criteria": {"zip_code": 33101, "has_policy": True}}, format="json")
    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [person.pk]


def test_personal_data_criteria_are_refused_in_urls_and_work_in_the_body(api):
    person = IndividualFactory(ssn=SSN)
    IndividualFactory(ssn="123-45-6780")
    assert api.get(f"/api/individuals/?ssn={SSN}").status_code == 400
    response = api.post("/api/individuals/search/", {"criteria": {"ssn": SSN}}, format="json")
    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [person.pk]
    bad = api.post("/api/individuals/search/", {"criteria": {"ssn": "12-3"}}, format="json")
    assert bad.status_code == 400 and "ssn" in bad.json()


def test_search_needs_only_view_rights(make_user, api_as):
    IndividualFactory()
    viewer = make_user(individuals=Level.VISIBLE)
    response = api_as(viewer).post("/api/individuals/search/", {"criteria": {}}, format="json")
    assert response.status_code == 200 and len(response.json()["results"]) == 1
    assert api_as(make_user()).post("/api/individuals/search/", {"criteria": {}}, format="json").status_code == 403


def test_create_encrypts_and_audits_without_the_clear_value(api, agency_admin):
    response = api.post(
        "/api/individuals/",
        {
            "first_name": "Ruth",
            "last_name": "Baker",
            "ssn": SSN,
            "medicare_beneficiary_id": "1EG4-TE5-MK73",
            "drivers_license": "D1234567",
            "state": "TX",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["ssn"] == "***-**-6789" and body["medicare_beneficiary_id"] == "****MK73"
    individual = Individual.objects.get(pk=body["id"])
    assert individual.ssn_encrypted and "6789" not in individual.ssn_encrypted
    row = AuditLog.objects.get(action="create", object_id=str(individual.pk))
    assert row.actor == agency_admin
    assert "6789" not in str(row.data) + row.summary + row.object_repr


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"ssn": "000-12-3456"}, "ssn"),
        ({"medicare_beneficiary_id": "ABC"}, "medicare_beneficiary_id"),
        ({"date_of_birth": "1950-02-31"}, "date_of_birth"),
        ({"state": "XX"}, "state"),
        ({"gender": "robot"}, "gender"),
        ({"zip_code": "ABCDE"}, "zip_code"),
        ({"custom_fields": {"plan_year": "soon"}}, "custom_fields"),
        ({"custom_fields": {"no_such_field": "x"}}, "custom_fields"),
    ],
)
def test_bad_input_is_400_with_field_errors_and_writes_nothing(api, payload, field):
    CustomFieldFactory(key="plan_year", field_type=CustomField.FieldType.NUMBER)
    audit_rows = AuditLog.objects.count()
    response = api.post("/api/individuals/", {"first_name": "A", "last_name": "B", **payload}, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Individual.objects.count() == 0 and AuditLog.objects.count() == audit_rows


def test_update_replaces_and_clears_personal_data(api):
    person = IndividualFactory(ssn=SSN)
    assert api.patch(f"/api/individuals/{person.pk}/", {"ssn": "287-65-4321"}, format="json").json()["ssn"] == "***-**-4321"
    assert api.patch(f"/api/individuals/{person.pk}/", {"ssn": ""}, format="json").json()["ssn"] is None
    person.refresh_from_db()
    assert person.ssn_encrypted == person.ssn_hash == person.ssn_last4 == ""


def test_custom_field_values_through_the_api(api):
    CustomFieldFactory(key="tier", field_type=CustomField.FieldType.DROPDOWN, options=["Gold", "Silver"])
    CustomFieldFactory(key="renewal_call", field_type=CustomField.FieldType.DATE)
    person = IndividualFactory()
    response = api.patch(f"/api/individuals/{person.pk}/", {"custom_fields": {"tier": "Gold", "renewal_call": "2026-10-01"}}, format="json")
    assert response.status_code == 200
    assert response.json()["custom_fields"] == {"tier": "Gold", "renewal_call": "2026-10-01"}
    assert api.patch(f"/api/individuals/{person.pk}/", {"custom_fields": {"tier": "Bronze"}}, format="json").status_code == 400
    person.refresh_from_db()
    assert person.custom_fields["tier"] == "Gold"


def test_reveal_needs_the_right_and_is_audited(make_user, api_as):
    person = IndividualFactory(ssn=SSN)
    plain = make_user(individuals=Level.VISIBLE)
    response = api_as(plain).get(f"/api/individuals/{person.pk}/?reveal=ssn")
    assert response.status_code == 403
    assert api_as(plain).get(f"/api/individuals/{person.pk}/").json()["ssn"] == "***-**-6789"
    assert not AuditLog.objects.filter(action=AuditLog.Action.REVEAL).exists()

    trusted = make_user(individuals=Level.VISIBLE, flags={Flag.VIEW_FULL_PERSONAL_DATA})
    body = api_as(trusted).get(f"/api/individuals/{person.pk}/?reveal=ssn").json()
    assert body["ssn"] == SSN
    assert api_as(trusted).get(f"/api/individuals/{person.pk}/").json()["ssn"] == "***-**-6789"  # only when asked
    row = AuditLog.objects.get(action=AuditLog.Action.REVEAL)
    assert row.actor == trusted and row.object_id == str(person.pk) and row.data["field"] == "ssn"
    assert "6789" in row.data["masked"] and SSN not in str(row.data)
    assert api_as(trusted).get(f"/api/individuals/{person.pk}/?reveal=password").status_code == 400


def test_detail_lists_policies(api):
    policy = PolicyFactory()
    body = api.get(f"/api/individuals/{policy.individual_id}/").json()
    assert [p["id"] for p in body["policies"]] == [policy.pk]
    assert body["policies"][0]["carrier_name"] == policy.carrier.name


def test_rights_per_area(make_user, api_as):
    person = IndividualFactory()
    PolicyFactory(individual=person)
    individuals_only = api_as(make_user(individuals=Level.EDIT))
    assert individuals_only.get("/api/individuals/").status_code == 200
    assert individuals_only.get("/api/policies/").status_code == 403
    assert individuals_only.delete(f"/api/individuals/{person.pk}/").status_code == 403
    assert individuals_only.post("/api/custom-fields/", {"name": "X", "key": "x", "field_type": "text"}).status_code == 403

    policies_only = api_as(make_user(policies=Level.VISIBLE))
    assert policies_only.get("/api/policies/").status_code == 200
    assert policies_only.get("/api/individuals/").status_code == 403
    assert policies_only.post("/api/policies/", {}).status_code == 403

    nobody = api_as(make_user())
    assert nobody.get("/api/individuals/").status_code == 403
    assert nobody.get(f"/api/individuals/{person.pk}/").status_code == 403

    manager = api_as(make_user(individuals=Level.VISIBLE, flags={Flag.MANAGE_CUSTOM_FIELDS}))
    assert manager.post("/api/custom-fields/", {"name": "X", "key": "x", "field_type": "text"}).status_code == 201


def test_policy_crud_validates_and_audits(api):
    person, carrier = IndividualFactory(), CarrierFactory()
    bad = api.post(
        "/api/policies/",
        {
            "individual": person.pk,
            "carrier": carrier.pk,
            "coverage_type": "medicare_advantage",
            "effective_date": "2026-01-01",
            "renewal_date": "2025-01-01",
        },
    )
    assert bad.status_code == 400 and "renewal_date" in bad.json()
    assert api.post("/api/policies/", {"individual": person.pk, "carrier": carrier.pk, "coverage_type": "spaceflight"}).status_code == 400
    ok = api.post(
        "/api/policies/", {"individual": person.pk, "carrier": carrier.pk, "coverage_type": "dental", "status": "active", "premium": "42.50"}
    )
    assert ok.status_code == 201
    assert AuditLog.objects.filter(action="create", object_id=str(ok.json()["id"]), content_type__model="policy").exists()


def test_custom_field_definitions_validate_options(api):
    assert api.post("/api/custom-fields/", {"name": "Tier", "key": "tier", "field_type": "dropdown", "options": []}, format="json").status_code == 400
    assert api.post("/api/custom-fields/", {"name": "Tier", "key": "Bad Key", "field_type": "text"}, format="json").status_code == 400
    assert (
        api.post("/api/custom-fields/", {"name": "Tier", "key": "tier", "field_type": "dropdown", "options": ["A", "B"]}, format="json").status_code
        == 201
    )


def test_list_queries_do_not_grow_with_the_page_size(api, django_assert_max_num_queries):
    from tests.accounts.factories import AgentFactory

    agent = AgentFactory()
    for _ in range(30):
        PolicyFactory(individual=IndividualFactory(servicing_agent=agent))
    with django_assert_max_num_queries(8) as small:
        api.get("/api/individuals/?page_size=5&coverage_type=medicare_advantage")
    with django_assert_max_num_queries(8) as large:
        api.get("/api/individuals/?page_size=30&coverage_type=medicare_advantage")
    assert len(small.captured_queries) == len(large.captured_queries)
    assert not any("COUNT(" in q["sql"].upper() for q in large.captured_queries)


def test_a_search_of_a_known_shape_answers_as_the_orm(api, django_assert_num_queries):
    """The list keeps the SQL of each shape of policy search (``individuals.api.list_page``): a later search of
    the same criteria keys with other values, page or order answers what the ORM answers for it."""
    from django.db import connection

    from individuals.api import list_page

    carriers = CarrierFactory.create_batch(2)
    for i in range(12):
        PolicyFactory(
            individual=IndividualFactory(last_name=f"Name{i % 5}"),
            carrier=carriers[i % 2],
            coverage_type=["medicare_advantage", "dental", "medicare_supplement"][i % 3],
            status=["active", "terminated"][i % 2],
            effective_date=datetime.date(2024, 1 + i, 1),
        )
    a, b = carriers[0].pk, carriers[1].pk
    pairs = [  # (learns the shape, then read through the kept SQL)
        ("page_size=3", "page_size=3&page=3"),
        ("coverage_type=dental", "coverage_type=medicare_advantage&page_size=2&page=2"),
        ("coverage_type=dental&ordering=-last_name", "coverage_type=medicare_supplement&ordering=-last_name"),
        (
            f"coverage_type=dental,medicare_advantage&policy_status=active&carrier={a}&policy_effective_after=2024-02-01&policy_effective_before=2024-12-31",
            f"coverage_type=medicare_supplement&coverage_type=dental&policy_status=terminated&carrier={b}&policy_effective_after=2024-01-01&policy_effective_before=2024-06-30",
        ),
    ]
    for first, later in pairs:
        list_page._SQL.clear()
        api.get(f"/api/individuals/?{first}")
        if connection.vendor == "postgresql":
            assert None not in list_page._SQL.values(), first
        with django_assert_num_queries(2 if "carrier" in later else 1):  # (the carriers' existence) and the page
            kept = api.get(f"/api/individuals/?{later}").json()
        list_page._SQL.clear()
        assert kept == api.get(f"/api/individuals/?{later}").json() and kept["results"], later


def test_schema_documents_the_resources(api_client):
    schema = api_client.get("/api/schema/").content.decode()
    for path in ("/api/individuals/", "/api/individuals/search/", "/api/policies/", "/api/custom-fields/"):
        assert path in schema
    assert "coverage_type" in schema and "reveal" in schema


def test_policy_needs_policies_area_even_for_individual_editors(make_user, api_as):
    policy = PolicyFactory()
    editor = api_as(make_user(individuals=Level.DELETE, policies=Level.VISIBLE))
    assert editor.patch(f"/api/policies/{policy.pk}/", {"status": "terminated"}).status_code == 403
    assert Policy.objects.get(pk=policy.pk).status == "active"


def test_fast_representation_matches_drf():
    from rest_framework import serializers

    from individuals.api.serializers import IndividualSerializer
    from tests.accounts.factories import AgentFactory

    person = IndividualFactory(
        ssn=SSN, servicing_agent=AgentFactory(), custom_fields={"a": [1, 2]}, medicare_part_a_effective=datetime.date(2020, 1, 1)
    )
    person = Individual.objects.select_related("servicing_agent").get(pk=person.pk)
    fast = IndividualSerializer(person).data
    drf = serializers.ModelSerializer.to_representation(IndividualSerializer(person), person)
    assert fast == dict(drf)
    assert list(fast) == list(drf)


def test_list_rows_equal_the_detail(api):
    """The list builds rows from column values (no model instances): the same output as the detail."""
    from tests.accounts.factories import AgentFactory

    with_all = IndividualFactory(
        ssn=SSN,
        medicare_beneficiary_id="1EG4-TE5-MK73",
        servicing_agent=AgentFactory(),
        custom_fields={"a": [1, 2]},
        medicare_part_a_effective=datetime.date(2020, 1, 1),
    )
    bare = IndividualFactory()
    rows = {r["id"]: r for r in api.get("/api/individuals/").json()["results"]}
    searched = {r["id"]: r for r in api.post("/api/individuals/search/", {"criteria": {}}, format="json").json()["results"]}
    for person in (with_all, bare):
        detail = api.get(f"/api/individuals/{person.pk}/").json()
        detail.pop("policies")
        assert rows[person.pk] == detail == searched[person.pk]
        assert list(rows[person.pk]) == list(detail)
    assert rows[with_all.pk]["ssn"] == "***-**-6789" and rows[with_all.pk]["servicing_agent_name"]


def test_a_session_request_costs_the_session_the_user_with_the_group_and_the_page(make_user, django_assert_max_num_queries):
    """The session's user comes with its security group: the permission check needs no query of its own."""
    from django.test import Client

    IndividualFactory.create_batch(3, ssn=SSN)
    allowed, refused = Client(), Client()
    allowed.force_login(make_user(individuals=Level.VISIBLE))
    refused.force_login(make_user(policies=Level.EDIT))

    with django_assert_max_num_queries(3):  # the session, the user (with group), the page
        response = allowed.get("/api/individuals/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert [r["ssn"] for r in response.json()["results"]] == ["***-**-6789"] * 3
    assert refused.get("/api/individuals/", HTTP_ACCEPT="application/json").status_code == 403


def test_a_token_request_reads_the_security_group_with_the_token(make_user, django_assert_max_num_queries):
    from rest_framework.test import APIClient

    from accounts.services import api_token_create

    IndividualFactory.create_batch(2)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(user=make_user(individuals=Level.VISIBLE))[1]}")
    with django_assert_max_num_queries(2):  # the token (with user and group), the page
        response = client.get("/api/individuals/")
    assert response.status_code == 200 and len(response.json()["results"]) == 2
