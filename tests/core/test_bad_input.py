"""Input that used to reach a 500: each is a 400 or 404 with a message."""
import json

import pytest

from tests.individuals.factories import IndividualFactory

pytestmark = pytest.mark.django_db
DEEP = "[" * 5000 + "]" * 5000
BEYOND_BIGINT = "99999999999999999999999"


@pytest.mark.parametrize("path", [
    "/api/individuals/export/jobs/abc/download/", "/api/individuals/export/jobs/abc/",
    f"/api/individuals/export/jobs/{BEYOND_BIGINT}/download/", f"/api/individuals/{BEYOND_BIGINT}/",
    "/api/saved-searches/abc/", f"/api/plans/{BEYOND_BIGINT}/",
])
def test_ids_that_are_not_ids_are_404(api, path):
    assert api.get(path).status_code == 404


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
    response = api.post("/api/individuals/search/", json.dumps({"criteria": {"state": ["FL"]}}),
                        content_type="application/json")
    assert response.status_code == 200 and len(response.json()["results"]) == 1
