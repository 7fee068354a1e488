"""Input that used to reach a 500: each is a 400 or 404 with a message."""

import json

import pytest

from tests.individuals.factories import IndividualFactory

pytestmark = pytest.mark.django_db
DEEP = "[" * 5000 + "]" * 5000
BEYOND_BIGINT = "99999999999999999999999"


@pytest.mark.parametrize(
    "path",
    [
        "/api/individuals/export/jobs/abc/download/",
        "/api/individuals/export/jobs/abc/",
        f"/api/individuals/export/jobs/{BEYOND_BIGINT}/download/",
        f"/api/individuals/{BEYOND_BIGINT}/",
        "/api/saved-searches/abc/",
        f"/api/plans/{BEYOND_BIGINT}/",
    ],
)
def test_ids_that_are_not_ids_are_404(api, path):
    assert api.get(path).status_code == 404


@pytest.mark.parametrize(
    "query", [f"/api/plans/?carrier={BEYOND_BIGINT}", f"/api/individuals/?carrier={BEYOND_BIGINT}", f"/api/plans/?group={BEYOND_BIGINT}"]
)
def test_ids_beyond_bigint_in_criteria_are_a_400(api, query):
    assert api.get(query).status_code == 400


def test_sales_record_ids_beyond_bigint_are_a_400_naming_them(api):
    response = api.post("/api/sales-records/convert/", {"ids": [int(BEYOND_BIGINT)]}, format="json")
    assert response.status_code == 400 and "ids" in response.json()


@pytest.mark.parametrize("path", ["/api/individuals/", "/api/plans/", "/api/saved-searches/"])
def test_a_page_beyond_bigint_is_404(api, path):
    IndividualFactory()
    response = api.get(f"{path}?page={BEYOND_BIGINT}")
    assert response.status_code == 404 and "detail" in response.json()


@pytest.mark.parametrize("path", ["/api/individuals/", "/api/plans/", "/api/saved-searches/"])
@pytest.mark.parametrize("value", ["abc", "0", "-3", "1.5"])
def test_a_page_size_that_is_not_a_positive_number_is_a_400_naming_it(api, path, value):
    response = api.get(f"{path}?page_size={value}")
    assert response.status_code == 400 and list(response.json()) == ["page_size"]


def test_a_page_that_is_not_a_number_is_a_400_naming_it(api):
    response = api.get("/api/individuals/?page=abc")
    assert response.status_code == 400 and list(response.json()) == ["page"]


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00%2B05:00", "9999-12-31T23:59:59-05:00", "0001-01-01"])
def test_timestamps_outside_the_databases_range_are_a_400(api, value):
    response = api.get(f"/api/plans/?modified_since={value}")
    assert response.status_code == 400 and "modified_since" in response.json()
    response = api.get(f"/api/individuals/?created_after={value}")
    assert response.status_code == 400 and "created" in response.json()


@pytest.mark.parametrize("path", ["/api/individuals/search/", "/api/saved-searches/", "/api/sales-record-jobs/"])
def test_json_nested_5000_deep_is_a_400(api, path):
    response = api.post(path, DEEP, content_type="application/json")
    assert response.status_code == 400 and "deep" in response.json()["detail"]


def test_json_nested_5000_deep_is_a_400_without_logging_in_too(api_client):
    response = api_client.post("/api/auth/token/", '{"username": ' + DEEP + "}", content_type="application/json")
    assert response.status_code == 400


def test_ordinary_nesting_still_parses(api):
    IndividualFactory(state="FL")
    response = api.post("/api/individuals/search/", json.dumps({"criteria": {"state": ["FL"]}}), content_type="application/json")
    assert response.status_code == 200 and len(response.json()["results"]) == 1


@pytest.mark.parametrize("path", ["/api/plans/", "/api/employer-groups/"])
def test_a_timestamp_with_any_offset_is_the_same_instant_on_every_database(api, path):
    # given: a record changed at a known moment
    from datetime import UTC, datetime, timedelta, timezone

    from plans.models import EmployerGroup, Plan
    from tests.plans.factories import PlanFactory

    plan = PlanFactory()
    moment = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    Plan.objects.filter(pk=plan.pk).update(modified_at=moment)
    EmployerGroup.objects.filter(pk=plan.group_id).update(updated_at=moment)
    far_west = timezone(-timedelta(hours=19, minutes=2))  # an offset PostgreSQL can't store as given

    def listed(at: datetime) -> bool:
        value = at.astimezone(far_west).isoformat().replace("+", "%2B")
        response = api.get(f"{path}?modified_since={value}")
        assert response.status_code == 200, response.content
        return len(response.json()["results"]) == 1

    # then: the same instant in another zone filters alike (no 500 on PostgreSQL)
    assert listed(moment - timedelta(minutes=1)) and not listed(moment + timedelta(minutes=1))
    assert api.get(f"{path}?modified_since=2201-10-05T13:28:19-19:02").status_code == 200
