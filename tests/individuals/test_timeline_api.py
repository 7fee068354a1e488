"""GET /api/individuals/{id}/timeline/: the client page's timeline for programs, paged by time, by kind."""

import pytest

from accounts.rights import Level
from individuals.services import individual_update

from .factories import IndividualFactory
from .test_client_page import story

pytestmark = pytest.mark.django_db


def timeline_url(person, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"/api/individuals/{person.pk}/timeline/" + (f"?{query}" if query else "")


@pytest.fixture
def person(agency_admin):
    person = IndividualFactory(first_name="Hedy", last_name="Lamarr", state="TX")
    individual_update(actor=agency_admin, individual=person, data={"city": "Dallas"})
    return person


def test_the_timeline_lists_every_kind_newest_first_with_counts(api, agency_admin, person):
    story(person, agency_admin, 2)
    body = api.get(timeline_url(person)).json()
    kinds = {e["kind"] for e in body["results"]}
    assert kinds == {"edit", "sync", "notification", "sales", "export"}
    assert body["counts"]["notification"] == 2 and body["counts"]["export"] == 2 and body["counts"]["sales"] == 5
    ats = [e["at"] for e in body["results"]]
    assert ats == sorted(ats, reverse=True)
    city = next(e for e in body["results"] if any(c["field"] == "City" for c in e["changes"]))
    assert city["changes"][0]["new"] == "Dallas" and city["source"] == "person"


def test_a_kind_filter_and_pages_by_time(api, agency_admin, person):
    story(person, agency_admin, 5)
    first = api.get(timeline_url(person, kind="notification", limit=3)).json()
    assert [e["kind"] for e in first["results"]] == ["notification"] * 3 and first["next"]
    second = api.get(first["next"]).json()
    assert len(second["results"]) == 2 and second["next"] is None
    assert max(e["at"] for e in second["results"]) < min(e["at"] for e in first["results"])


def test_bad_parameters_are_400_naming_the_field(api, person):
    response = api.get(timeline_url(person, kind="gossip", before="yesterday", limit=0))
    assert response.status_code == 400
    assert set(response.json()) >= {"kind", "before", "limit"}


def test_rights_as_for_the_detail(api_as, make_user, agency_admin, person):
    story(person, agency_admin, 1)
    assert api_as(make_user(plans=Level.VISIBLE)).get(timeline_url(person)).status_code == 403
    reader = make_user(individuals=Level.VISIBLE)
    body = api_as(reader).get(timeline_url(person)).json()
    assert "sales" not in body["counts"]  # sales activity needs Sales Enablement
    assert api_as(reader).get(timeline_url(IndividualFactory.build(pk=999999))).status_code == 404


def test_the_timeline_is_in_the_openapi_document(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    assert "/api/individuals/{id}/timeline/" in schema and "next_before" in schema
