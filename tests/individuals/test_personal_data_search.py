"""Exact search by SSN / MBI / driver's license: a right of its own, audited, throttled per user."""

import json

import pytest
from django.core.cache import cache
from django.urls import reverse

from accounts.models import AuditLog, SecurityGroup
from individuals import personal_data
from salesrecords.models import MassCreationJob
from tests.accounts.factories import UserFactory
from tests.salesrecords.factories import SalesRecordTypeFactory

from .factories import IndividualFactory

pytestmark = pytest.mark.django_db
SSN = "123-45-6789"
CHANGELIST = reverse("admin:individuals_individual_changelist")


@pytest.fixture(autouse=True)
def _fresh_counts():
    cache.clear()  # the per-user throttle counts live in the cache


def in_group(name):
    return UserFactory(security_group=SecurityGroup.objects.get(name=name))


def searches():
    return AuditLog.objects.filter(action=AuditLog.Action.SEARCH)


@pytest.mark.parametrize(
    ("group", "granted"), [("Agency Admin", True), ("Service", True), ("Sales", True), ("Benefits Admin", False), ("Read Only", False)]
)
def test_the_right_is_granted_to_the_seeded_groups_that_need_it(group, granted):
    assert in_group(group).has_perm("accounts.search_by_personal_data") is granted


def test_read_only_cannot_search_by_ssn_anywhere(api_as, client):
    person = IndividualFactory(ssn=SSN)
    read_only = in_group("Read Only")
    api = api_as(read_only)
    refused = api.post("/api/individuals/search/", {"criteria": {"ssn": SSN}}, format="json")
    assert refused.status_code == 403 and "Search by SSN" in refused.json()["detail"]
    hashed = personal_data.hash_value("ssn", SSN)
    assert api.get(f"/api/individuals/?ssn_hash={hashed}").status_code == 403
    assert api.post("/api/individuals/export/", {"criteria": {"ssn": SSN}}, format="json").status_code == 403
    client.force_login(read_only)
    html = client.get(f"{CHANGELIST}?ssn_hash={hashed}").content.decode()
    assert "Search by SSN" in html and f"/{person.pk}/change/" not in html
    assert not searches().exists()
    # the masked list still works without the right
    assert api.get("/api/individuals/").status_code == 200


def test_a_search_by_ssn_is_audited_without_the_number(api_as):
    person = IndividualFactory(ssn=SSN)
    service = in_group("Service")
    found = api_as(service).post("/api/individuals/search/", {"criteria": {"ssn": SSN}}, format="json")
    assert [r["id"] for r in found.json()["results"]] == [person.pk]
    entry = searches().get()
    assert entry.actor == service and entry.data == {"fields": ["ssn"], "how": "API search"}
    assert "6789" not in json.dumps(entry.data) + entry.summary


def test_searches_by_personal_data_are_throttled_per_user(api_as, settings):
    settings.INDIVIDUALS_PERSONAL_DATA_SEARCH_RATE = "3/hour"
    IndividualFactory(ssn=SSN)
    guesser, colleague = in_group("Service"), in_group("Service")
    body = {"criteria": {"ssn": SSN}}
    answers = [api_as(guesser).post("/api/individuals/search/", body, format="json").status_code for _ in range(5)]
    assert answers == [200, 200, 200, 429, 429]
    assert api_as(colleague).post("/api/individuals/search/", body, format="json").status_code == 200
    assert api_as(guesser).get("/api/individuals/?state=FL").status_code == 200  # other searches are not counted
    assert searches().count() == 4


def test_a_sales_records_job_by_ssn_needs_the_right(api_as):
    renewal = SalesRecordTypeFactory(name="Renewal")
    benefits = in_group("Benefits Admin")
    reply = api_as(benefits).post("/api/sales-record-jobs/", {"criteria": {"ssn": SSN}, "record_type": renewal.pk}, format="json")
    assert reply.status_code == 403
    assert not MassCreationJob.objects.exists()


def test_the_admin_csv_export_refuses_personal_data_in_the_url(client):
    IndividualFactory(ssn=SSN)
    client.force_login(in_group("Agency Admin"))
    response = client.get(reverse("admin:individuals_individual_export_csv") + f"?ssn={SSN}", follow=True)
    assert "Personal data never goes in a URL" in response.content.decode()
    assert response["Content-Type"].startswith("text/html")  # no file


def test_no_one_ever_sees_a_personal_data_key_of_a_saved_search(api_as):
    # given: a colleague's shared search by SSN
    owner = in_group("Agency Admin")
    shared = api_as(owner).post("/api/saved-searches/", {"name": "Mrs Jones", "shared": True, "criteria": {"ssn": SSN}}, format="json")
    assert shared.status_code == 201
    key = personal_data.hash_value("ssn", SSN)
    # when: anyone reads it, runs it, or saves a guess of their own
    sales = in_group("Sales")
    listed = api_as(sales).get("/api/saved-searches/")
    ran = api_as(owner).post(f"/api/saved-searches/{shared.json()['id']}/run/")
    guess = api_as(owner).post("/api/saved-searches/", {"name": "Guess", "criteria": {"ssn": "123-45-6780"}}, format="json")
    # then: no keyed hash anywhere, only that an SSN was given
    for response in (shared, listed, ran, guess):
        assert key not in response.content.decode() and "ssn_hash" not in json.dumps(response.json().get("criteria", {}))
    assert shared.json()["criteria"] == {"ssn": "(saved, not shown)"}
    assert key not in json.dumps(list(AuditLog.objects.values_list("data", flat=True)))


def test_saving_a_search_by_ssn_counts_against_the_same_limit_as_searching(api_as, settings):
    settings.INDIVIDUALS_PERSONAL_DATA_SEARCH_RATE = "3/hour"
    guesser = in_group("Agency Admin")
    client = api_as(guesser)
    assert client.post("/api/individuals/search/", {"criteria": {"ssn": SSN}}, format="json").status_code == 200
    saves = [
        client.post("/api/saved-searches/", {"name": f"Guess {i}", "criteria": {"ssn": f"123-45-678{i}"}}, format="json").status_code
        for i in range(4)
    ]
    assert saves == [201, 201, 429, 429]
    assert client.post("/api/individuals/search/", {"criteria": {"ssn": SSN}}, format="json").status_code == 429


def test_the_personal_data_limit_slides_it_does_not_reset_at_the_hour(settings):
    from core.api.throttling import rate_take

    hour = 3600 * 500_000  # the start of some clock hour
    assert [rate_take("pd-test", limit=3, period=3600, now=hour - 60) for _ in range(3)] == [None] * 3
    assert rate_take("pd-test", limit=3, period=3600, now=hour - 30) is not None
    # a minute later the clock's hour has turned: the uses of a minute ago still count
    assert rate_take("pd-test", limit=3, period=3600, now=hour + 30) is not None


def test_an_edit_that_sends_the_criteria_back_as_shown_keeps_the_search(api_as):
    owner = in_group("Agency Admin")
    IndividualFactory(ssn=SSN)
    created = api_as(owner).post("/api/saved-searches/", {"name": "Mrs Jones", "criteria": {"ssn": SSN, "state": "FL"}}, format="json").json()
    criteria = {**created["criteria"], "state": "TX"}
    edited = api_as(owner).patch(f"/api/saved-searches/{created['id']}/", {"criteria": criteria}, format="json")
    assert edited.status_code == 200 and edited.json()["criteria"] == {"ssn": "(saved, not shown)", "state": "TX"}
    from individuals.models import SavedSearch

    assert SavedSearch.objects.get().criteria == {"ssn_hash": personal_data.hash_value("ssn", SSN), "state": "TX"}
