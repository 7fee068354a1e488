"""Saved searches: privacy and sharing, owner-only changes, running, criteria validation, admin flow."""

import pytest
from django.urls import reverse

from accounts.models import AuditLog
from accounts.rights import Flag, Level
from individuals import personal_data
from individuals.models import SavedSearch
from individuals.services import saved_search_create, saved_search_run

from .factories import IndividualFactory, PolicyFactory

pytestmark = pytest.mark.django_db
SSN = "123-45-6789"


@pytest.fixture
def alice(make_user):
    """Edits individuals: may share searches (bob, who only sees them, may not)."""
    return make_user(individuals=Level.EDIT, username="alice")


@pytest.fixture
def bob(make_user):
    return make_user(individuals=Level.VISIBLE, username="bob")


def test_private_search_is_seen_by_its_owner_only_and_shared_by_everyone(alice, bob, make_user, api_as):
    # given
    api_as(alice).post("/api/saved-searches/", {"name": "Mine", "criteria": {"state": "TX"}}, format="json")
    api_as(alice).post(
        "/api/saved-searches/", {"name": "Team AEP", "shared": True, "criteria": {"coverage_type": ["medicare_advantage"]}}, format="json"
    )
    outsider = make_user(policies=Level.VISIBLE)  # may not see individuals at all
    # when
    mine = [s["name"] for s in api_as(alice).get("/api/saved-searches/").json()["results"]]
    theirs = [s["name"] for s in api_as(bob).get("/api/saved-searches/").json()["results"]]
    # then
    assert mine == ["Mine", "Team AEP"]
    assert theirs == ["Team AEP"]
    private = SavedSearch.objects.get(name="Mine")
    assert api_as(bob).get(f"/api/saved-searches/{private.pk}/").status_code == 404
    assert api_as(bob).post(f"/api/saved-searches/{private.pk}/run/").status_code == 404
    assert api_as(outsider).get("/api/saved-searches/").status_code == 403


def test_only_the_owner_renames_or_deletes_a_shared_search(alice, bob, api_as):
    shared = saved_search_create(actor=alice, name="Team AEP", shared=True, criteria={"state": "TX"})
    assert api_as(bob).patch(f"/api/saved-searches/{shared.pk}/", {"name": "Hijacked"}, format="json").status_code == 403
    assert api_as(bob).delete(f"/api/saved-searches/{shared.pk}/").status_code == 403
    assert api_as(alice).patch(f"/api/saved-searches/{shared.pk}/", {"name": "AEP 2027", "shared": False}, format="json").status_code == 200
    shared.refresh_from_db()
    assert (shared.name, shared.shared) == ("AEP 2027", False)
    assert api_as(alice).delete(f"/api/saved-searches/{shared.pk}/").status_code == 204
    assert not SavedSearch.objects.exists()
    actions = list(AuditLog.objects.filter(content_type__model="savedsearch").values_list("action", flat=True))
    assert sorted(actions) == ["create", "delete", "update"]


def test_run_updates_last_run_and_returns_the_results(alice, bob, api_as):
    texan = IndividualFactory(state="TX", last_name="Adams")
    PolicyFactory(individual=texan, coverage_type="dental", status="active")
    IndividualFactory(state="FL")
    saved = saved_search_create(actor=alice, name="Texas dental", shared=True, criteria={"state": "TX", "coverage_type": "dental"})
    assert saved.last_run_at is None
    before = saved.updated_at

    response = api_as(bob).post(f"/api/saved-searches/{saved.pk}/run/")

    assert response.status_code == 200
    body = response.json()
    assert [r["id"] for r in body["results"]] == [texan.pk]
    assert "state=TX" in body["url"] and "coverage_type=dental" in body["url"]
    assert [r["id"] for r in api_as(bob).get(body["url"]).json()["results"]] == [texan.pk]
    saved.refresh_from_db()
    assert saved.last_run_at is not None and saved.updated_at == before


def test_invalid_criteria_are_refused_with_field_errors(alice, api_as):
    response = api_as(alice).post(
        "/api/saved-searches/", {"name": "Bad", "criteria": {"state": "ZZ", "policy_effective_after": "2025-02-30", "bogus": "1"}}, format="json"
    )
    assert response.status_code == 400
    errors = response.json()["criteria"]
    assert {"state", "policy_effective", "bogus"} <= set(errors)
    assert not SavedSearch.objects.exists()


def test_duplicate_name_for_the_same_owner_is_refused(alice, bob, api_as):
    saved_search_create(actor=alice, name="Texas", criteria={"state": "TX"})
    response = api_as(alice).post("/api/saved-searches/", {"name": "Texas", "criteria": {}}, format="json")
    assert response.status_code == 400
    # Another user may use the same name.
    assert api_as(bob).post("/api/saved-searches/", {"name": "Texas", "criteria": {}}, format="json").status_code == 201


def test_personal_data_is_stored_as_a_keyed_hash_never_in_clear(make_user, api_as):
    alice = make_user(individuals=Level.VISIBLE, flags={Flag.SEARCH_BY_PERSONAL_DATA})
    person = IndividualFactory(ssn=SSN)
    IndividualFactory(ssn="234-56-7890")
    response = api_as(alice).post("/api/saved-searches/", {"name": "One person", "criteria": {"ssn": SSN}}, format="json")
    assert response.status_code == 201, response.content
    saved = SavedSearch.objects.get()
    assert saved.criteria == {"ssn_hash": personal_data.hash_value("ssn", SSN)}
    assert SSN not in response.content.decode() and "123456789" not in str(saved.criteria)
    assert [r["id"] for r in api_as(alice).post(f"/api/saved-searches/{saved.pk}/run/").json()["results"]] == [person.pk]
    bad = api_as(alice).post("/api/saved-searches/", {"name": "Bad SSN", "criteria": {"ssn": "12"}}, format="json")
    assert bad.status_code == 400 and "ssn" in bad.json()["criteria"]


def test_list_costs_a_fixed_number_of_queries(alice, django_assert_max_num_queries, api_as):
    for i in range(20):
        saved_search_create(actor=alice, name=f"Search {i}", shared=True, criteria={"state": "TX"})
    with django_assert_max_num_queries(6):
        assert len(api_as(alice).get("/api/saved-searches/").json()["results"]) == 20


def test_admin_save_this_search_then_run_it(client, alice):
    client.force_login(alice)
    criteria = "state=TX&coverage_type=dental&o=1"
    page = client.get(reverse("admin:individuals_individual_changelist") + "?" + criteria)
    assert page.status_code == 200
    content = page.content.decode()
    assert "Save this search" in content and "Export CSV (personal data masked)" in content
    assert "full personal data" not in content  # alice lacks the right

    save_url = reverse("admin:individuals_savedsearch_save") + "?" + criteria
    assert "Coverage types: <strong>Dental" in client.get(save_url).content.decode()
    response = client.post(save_url, {"name": "Texas dental", "shared": "on"})
    assert response.status_code == 302
    saved = SavedSearch.objects.get()
    assert saved.criteria == {"state": "TX", "coverage_type": "dental"} and saved.shared and saved.owner == alice

    run = client.get(reverse("admin:individuals_savedsearch_run", args=[saved.pk]))
    assert run.status_code == 302 and "state=TX" in run["Location"] and "coverage_type=dental" in run["Location"]
    saved.refresh_from_db()
    assert saved.last_run_at is not None
    listing = client.get(reverse("admin:individuals_savedsearch_changelist")).content.decode()
    assert "Texas dental" in listing


def test_admin_save_refuses_invalid_criteria(client, alice):
    client.force_login(alice)
    response = client.post(reverse("admin:individuals_savedsearch_save") + "?state=ZZ", {"name": "Bad"})
    assert response.status_code == 200 and "state" in response.content.decode()
    assert not SavedSearch.objects.exists()


def test_admin_save_page_opened_with_invalid_criteria_says_why(client, alice):
    client.force_login(alice)
    response = client.get(reverse("admin:individuals_savedsearch_save") + "?coverage_type=timeshare")
    assert response.status_code == 200
    assert "coverage_type: Select a valid choice" in response.content.decode()


def test_admin_other_users_private_search_is_hidden_and_shared_one_read_only(client, alice, bob):
    private = saved_search_create(actor=alice, name="Mine", criteria={})
    shared = saved_search_create(actor=alice, name="Ours", shared=True, criteria={})
    client.force_login(bob)
    assert client.get(reverse("admin:individuals_savedsearch_change", args=[private.pk])).status_code == 302  # not found
    page = client.get(reverse("admin:individuals_savedsearch_change", args=[shared.pk]))
    assert page.status_code == 200 and 'name="name"' not in page.content.decode()  # view only
    assert client.post(reverse("admin:individuals_savedsearch_delete", args=[shared.pk]), {"post": "yes"}).status_code == 403
    assert SavedSearch.objects.count() == 2


def test_run_service_refuses_a_private_search_of_someone_else(alice, bob):
    from django.core.exceptions import PermissionDenied

    private = saved_search_create(actor=alice, name="Mine", criteria={})
    with pytest.raises(PermissionDenied):
        saved_search_run(actor=bob, saved_search=private)


def test_criteria_that_search_for_nothing_are_not_saved(alice):
    saved = saved_search_create(
        actor=alice,
        name="Form leftovers",
        criteria={
            "state": "TX",
            "has_policy": "unknown",
            "no_servicing_agent": "unknown",
            "policy_effective_after": "2026-01-01",
            "policy_effective_before": "",
        },
    )
    assert saved.criteria == {"state": "TX", "policy_effective_after": "2026-01-01"}


def test_read_only_cannot_publish_a_shared_search(api_as, client):
    from accounts.models import SecurityGroup
    from tests.accounts.factories import UserFactory

    read_only = UserFactory(security_group=SecurityGroup.objects.get(name="Read Only"))
    api = api_as(read_only)
    refused = api.post("/api/saved-searches/", {"name": "For everyone", "shared": True, "criteria": {"state": "TX"}}, format="json")
    assert refused.status_code == 403 and "needs Edit on Individuals" in refused.json()["detail"]
    assert not SavedSearch.objects.exists()
    mine = api.post("/api/saved-searches/", {"name": "Mine", "criteria": {"state": "TX"}}, format="json")
    assert mine.status_code == 201
    assert api.patch(f"/api/saved-searches/{mine.json()['id']}/", {"shared": True}, format="json").status_code == 403
    assert not SavedSearch.objects.get().shared

    client.force_login(read_only)
    page = client.post(reverse("admin:individuals_savedsearch_save") + "?state=TX", {"name": "Admin", "shared": "on"})
    assert page.status_code == 200 and "needs Edit on Individuals" in page.content.decode()
    assert SavedSearch.objects.count() == 1


def test_an_editor_may_share(make_user, api_as):
    editor = make_user(individuals=Level.EDIT)
    reply = api_as(editor).post("/api/saved-searches/", {"name": "Team", "shared": True, "criteria": {}}, format="json")
    assert reply.status_code == 201 and SavedSearch.objects.get().shared
