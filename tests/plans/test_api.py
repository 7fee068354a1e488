import datetime

import pytest

from accounts.models import AuditLog
from accounts.rights import Level
from plans.models import Plan, PlanRate
from tests.plans.factories import CarrierFactory, EmployerGroupFactory, PlanFactory

pytestmark = pytest.mark.django_db

RATES = [
    {"tier": "employee", "monthly_rate": "480.00"},
    {"tier": "employee_spouse", "monthly_rate": "990.00"},
    {"tier": "employee_children", "monthly_rate": "870.00"},
    {"tier": "family", "monthly_rate": "1390.00"},
]


def _payload(**overrides):
    group, carrier = EmployerGroupFactory(), CarrierFactory()
    body = {
        "group": group.pk,
        "carrier": carrier.pk,
        "line_of_coverage": "medical",
        "name": "Bronze HDHP",
        "plan_type": "hdhp",
        "effective_date": "2026-07-01",
        "renewal_date": "2027-07-01",
        "benefit_summary": {"deductible_individual": 3200, "hsa_eligible": True},
        "rates": RATES,
    }
    return {**body, **overrides}


def test_create_plan_with_nested_rates_in_one_request(api):
    response = api.post("/api/plans/", _payload(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["version"] == 1 and len(body["rates"]) == 4
    assert {"label": "HSA eligible", "value": "Yes"} in body["benefits"]
    assert {"label": "Deductible (individual)", "value": "$3,200"} in body["benefits"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"renewal_date": "2026-01-01"}, "renewal_date"),
        ({"rates": RATES[:3]}, "rates"),
        ({"rates": [*RATES[:3], {"tier": "family", "monthly_rate": "-1"}]}, "rates"),
        ({"benefit_summary": {"frame_allowance": 150}}, "benefit_summary"),
    ],
)
def test_bad_plans_are_400_with_field_errors_and_nothing_written(api, overrides, field):
    before = AuditLog.objects.count()
    response = api.post("/api/plans/", _payload(**overrides), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Plan.objects.exists() and not PlanRate.objects.exists()
    assert AuditLog.objects.count() == before


def test_inactive_carrier_is_400(api):
    response = api.post("/api/plans/", _payload(carrier=CarrierFactory(active=False).pk), format="json")
    assert response.status_code == 400 and "inactive" in response.json()["carrier"][0]


def test_update_with_rates_is_all_or_nothing_and_bumps_version(api):
    plan = PlanFactory()
    bad = api.patch(f"/api/plans/{plan.pk}/", {"name": "New name", "rates": RATES[:2]}, format="json")
    assert bad.status_code == 400
    plan.refresh_from_db()
    assert plan.name != "New name" and plan.rates.count() == 4 and plan.version == 1

    good = api.patch(f"/api/plans/{plan.pk}/", {"name": "New name", "rates": RATES}, format="json")
    assert good.status_code == 200
    assert good.json()["version"] == 2
    assert sorted(r["monthly_rate"] for r in good.json()["rates"]) == sorted(r["monthly_rate"] for r in RATES)


def test_renew_endpoint_links_the_new_plan_year(api):
    plan = PlanFactory()
    response = api.post(f"/api/plans/{plan.pk}/renew/", {"rate_change_percent": "5"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["renewed_from"] == plan.pk and body["effective_date"] == "2027-01-01"
    assert api.get(f"/api/plans/{plan.pk}/").json()["renewed_to"] == body["id"]
    assert api.post(f"/api/plans/{plan.pk}/renew/", {}, format="json").status_code == 400


def test_plan_filters_by_carrier_line_renewal_month_and_status(api, django_assert_max_num_queries):
    aetna, cigna = CarrierFactory(), CarrierFactory()
    wanted = PlanFactory(carrier=aetna, renewal_date=datetime.date(2027, 3, 1))
    PlanFactory(carrier=cigna, renewal_date=datetime.date(2027, 3, 1))
    PlanFactory(carrier=aetna, renewal_date=datetime.date(2027, 1, 1))
    PlanFactory(carrier=aetna, renewal_date=datetime.date(2027, 3, 1), line_of_coverage="dental", benefit_summary={})
    PlanFactory(carrier=aetna, renewal_date=datetime.date(2027, 3, 1), status="cancelled")

    with django_assert_max_num_queries(8):
        response = api.get("/api/plans/", {"carrier": aetna.pk, "line_of_coverage": "medical", "renewal_month": 3, "status": "active"})
    assert [p["id"] for p in response.json()["results"]] == [wanted.pk]


def test_group_filters_by_carrier_and_line_of_their_plans(api):
    carrier = CarrierFactory()
    dental_group = PlanFactory(carrier=carrier, line_of_coverage="dental", benefit_summary={}).group
    PlanFactory(carrier=carrier)
    PlanFactory(line_of_coverage="dental", benefit_summary={})
    found = api.get("/api/employer-groups/", {"carrier": carrier.pk, "line_of_coverage": "dental"}).json()["results"]
    assert [g["id"] for g in found] == [dental_group.pk]
    march = EmployerGroupFactory(renewal_month=3)
    assert [g["id"] for g in api.get("/api/employer-groups/", {"renewal_month": 3}).json()["results"]] == [march.pk]


def test_group_create_with_contacts_and_duplicate_account_number(api):
    body = {
        "name": "Harbor Dental",
        "account_number": "EG-9",
        "contacts": [{"name": "Lee", "is_primary": True}],
        "addresses": [{"kind": "mailing", "line1": "1 Main St", "city": "Austin", "state": "TX", "zip_code": "78701"}],
    }
    created = api.post("/api/employer-groups/", body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["contacts"][0]["name"] == "Lee"
    duplicate = api.post("/api/employer-groups/", {**body, "name": "Other"}, format="json")
    assert duplicate.status_code == 400 and "account_number" in duplicate.json()


@pytest.mark.parametrize(
    ("level", "read", "write", "delete"),
    [(Level.NONE, 403, 403, 403), (Level.VISIBLE, 200, 403, 403), (Level.EDIT, 200, 201, 403), (Level.DELETE, 200, 201, 204)],
)
def test_plans_area_level_governs_the_api(make_user, level, read, write, delete, api_as):
    client = api_as(make_user(plans=level))
    plan = PlanFactory()
    assert client.get("/api/plans/").status_code == read
    assert client.get("/api/employer-groups/").status_code == read
    assert client.post("/api/plans/", _payload(), format="json").status_code == write
    assert client.post(f"/api/plans/{plan.pk}/renew/", {}, format="json").status_code == (201 if write == 201 else 403)
    assert client.delete(f"/api/carriers/{CarrierFactory().pk}/").status_code == delete


def test_deleting_a_carrier_in_use_is_refused_with_a_reason(api):
    plan = PlanFactory()
    response = api.delete(f"/api/carriers/{plan.carrier.pk}/")
    assert response.status_code == 400 and "deactivate it instead" in response.json()["detail"].lower()
    assert Plan.objects.filter(pk=plan.pk).exists()
    assert not AuditLog.objects.filter(action=AuditLog.Action.DELETE).exists()  # the refused delete left no trace


def test_schema_documents_the_plans_endpoints(api_client):
    schema = api_client.get("/api/schema/").content.decode()
    for path in ("/api/plans/", "/api/plans/{id}/renew/", "/api/employer-groups/", "/api/carriers/"):
        assert path in schema


def test_deleting_a_group_removes_its_plans_but_not_while_employees_need_it(api):
    from tests.hrsync.factories import EmployeeFactory

    plan = PlanFactory()
    assert api.delete(f"/api/employer-groups/{plan.group.pk}/").status_code == 204
    assert not Plan.objects.filter(pk=plan.pk).exists()
    assert AuditLog.objects.filter(action="delete", object_repr__startswith=plan.group.name).exists()

    employee = EmployeeFactory(employer_group=PlanFactory().group)
    response = api.delete(f"/api/employer-groups/{employee.employer_group.pk}/")
    assert response.status_code == 400 and "employees" in response.json()["detail"]


def test_group_list_shows_external_ids_in_a_fixed_number_of_queries(api, django_assert_max_num_queries):
    from integrations.registry import external_id_link

    for _ in range(5):
        group = PlanFactory().group
        external_id_link(obj=group, system="ams", object_type="account", external_id=f"AMS-{group.pk}")
    with django_assert_max_num_queries(10):
        results = api.get("/api/employer-groups/").json()["results"]
    assert {r["external_ids"][0]["external_id"] for r in results} == {f"AMS-{r['id']}" for r in results}
    assert all(r["plan_count"] == 1 for r in results)
