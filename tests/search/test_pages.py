"""The quick search's pages: the top bar box on every page, the results page, the suggestions and the API."""

import pytest

from accounts.rights import Level
from tests.individuals.factories import IndividualFactory
from tests.plans.factories import EmployerGroupFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def clients():
    IndividualFactory(first_name="Anthony", last_name="Anderson", city="Springfield", ssn="123-45-6789")
    EmployerGroupFactory(name="Anderson Roofing")


def test_the_box_is_in_the_top_bar_of_every_page_with_its_script(client, agency_admin):
    client.force_login(agency_admin)
    for url in ("/admin/", "/admin/individuals/individual/", "/admin/plans/employergroup/", "/admin/awaiting/"):
        html = client.get(url).content.decode()
        assert 'id="ad-qs"' in html and 'action="/admin/search/"' in html and "integrations/quick_search.js" in html, url


def test_the_results_page_groups_by_kind_and_shows_the_masked_ssn_only(client, agency_admin, clients):
    client.force_login(agency_admin)
    response = client.get("/admin/search/", {"q": "anderson"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="search-individuals"' in html and 'id="search-groups"' in html
    assert "***-**-6789" in html and "123-45-6789" not in html
    assert 'value="anderson"' in html  # the top bar keeps the query


def test_a_user_without_individuals_view_sees_no_individuals(client, api_as, make_user, clients):
    user = make_user(plans=Level.VISIBLE)
    client.force_login(user)
    html = client.get("/admin/search/", {"q": "anderson"}).content.decode()
    assert 'id="search-groups"' in html and 'id="search-individuals"' not in html and "Anthony" not in html
    body = client.get("/admin/search/suggest/", {"q": "anderson"}).json()
    assert [g["kind"] for g in body["groups"]] == ["groups"]
    body = api_as(user).get("/api/search/", {"q": "anderson"}).json()
    assert [g["kind"] for g in body["groups"]] == ["groups"]


def test_the_api_answers_grouped_results_with_what_tells_people_apart(api, clients):
    body = api.get("/api/search/", {"q": "anderson"}).json()
    assert body["query"] == "anderson" and body["count"] == 2
    person = body["groups"][0]
    assert person["kind"] == "individuals" and person["title"] == "Individuals" and person["more"] is False
    hit = person["results"][0]
    assert hit["title"] == "Anderson, Anthony" and hit["url"].startswith("/admin/individuals/individual/")
    assert "Springfield, TX" in hit["details"] and "SSN ***-**-6789" in hit["details"]
    assert "123-45-6789" not in str(body)


def test_the_api_needs_a_login(api_client):
    assert api_client.get("/api/search/", {"q": "anderson"}).status_code in (401, 403)


def test_short_queries_answer_nothing(client, agency_admin, clients):
    client.force_login(agency_admin)
    assert client.get("/admin/search/suggest/", {"q": "a"}).json() == {"query": "a", "count": 0, "groups": []}
    assert "Type at least 2 characters" in client.get("/admin/search/", {"q": "a"}).content.decode()
