"""One criteria module: strict at every entry point, versioned when stored, described for people."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from individuals import filters as criteria_module
from individuals.filters import CRITERIA_VERSION, criteria_clean, criteria_labels, criteria_load
from individuals.filters import criteria as criteria_impl
from individuals.models import ExportJob, SavedSearch
from salesrecords.models import MassCreationJob, SalesRecord, SalesWorkflow
from tests.salesrecords.factories import SalesRecordTypeFactory

from .factories import CarrierFactory, IndividualFactory

pytestmark = pytest.mark.django_db
PERHAPS = {"has_policy": "perhaps"}
CHANGELIST = reverse("admin:individuals_individual_changelist")


@pytest.fixture
def people():
    return IndividualFactory.create_batch(3, state="FL")


@pytest.fixture
def renewal():
    return SalesRecordTypeFactory(name="Renewal")


# --- "perhaps" at every entry point: a 400 / form error naming the criterion, nothing written ------------
def test_api_list_and_search_refuse_an_invalid_value(api, people):
    listed = api.get("/api/individuals/?has_policy=perhaps")
    assert listed.status_code == 400 and "has_policy" in listed.json()
    searched = api.post("/api/individuals/search/", {"criteria": PERHAPS}, format="json")
    assert searched.status_code == 400 and "has_policy" in searched.json()
    # the same criterion given properly does search
    assert api.get("/api/individuals/?has_policy=false").json()["results"]


def test_admin_search_shows_a_form_error_and_no_one(client, agency_admin, people):
    client.force_login(agency_admin)
    posted = client.post(CHANGELIST, {"_advanced_search": "1", "state": "FL", "has_policy": "perhaps"})
    assert posted.status_code == 302 and "has_policy=perhaps" in posted["Location"]
    html = client.get(posted["Location"]).content.decode()
    assert 'id="search-errors"' in html and "<strong>has_policy</strong>: Enter true or false" in html
    assert "0 individuals" in html or not any(f"/{p.pk}/change/" in html for p in people)


def test_admin_search_with_a_malformed_ssn_shows_the_form_again_without_the_ssn_in_a_url(client, agency_admin, people):
    client.force_login(agency_admin)
    response = client.post(CHANGELIST, {"_advanced_search": "1", "state": "FL", "ssn": "12-3"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Enter a valid SSN" in html and "12-3" not in html
    assert not any(f"/{p.pk}/change/" in html for p in people)


def test_exports_refuse_an_invalid_value(api, client, agency_admin, people):
    assert api.get("/api/individuals/export/?has_policy=perhaps").status_code == 400
    posted = api.post("/api/individuals/export/", {"criteria": PERHAPS}, format="json")
    assert posted.status_code == 400 and "has_policy" in posted.json()
    client.force_login(agency_admin)
    response = client.get(reverse("admin:individuals_individual_export_csv") + "?has_policy=perhaps", follow=True)
    assert "<strong>has_policy</strong>: Enter true or false" in response.content.decode()
    assert not ExportJob.objects.exists()


def test_saved_searches_refuse_an_invalid_value(api, client, agency_admin):
    reply = api.post("/api/saved-searches/", {"name": "Maybe", "criteria": PERHAPS}, format="json")
    assert reply.status_code == 400 and "has_policy" in reply.json()["criteria"]
    client.force_login(agency_admin)
    page = client.post(reverse("admin:individuals_savedsearch_save") + "?has_policy=perhaps", {"name": "Maybe"})
    assert page.status_code == 200 and "has_policy: Enter true or false" in page.content.decode()
    assert not SavedSearch.objects.exists()


def test_mass_creation_refuses_an_invalid_value_and_creates_no_job(api, client, agency_admin, people, renewal, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        reply = api.post("/api/sales-record-jobs/", {"criteria": PERHAPS, "record_type": renewal.pk}, format="json")
        client.force_login(agency_admin)
        page = client.post(reverse("admin:salesrecords_masscreationjob_new"), {"criteria": json.dumps(PERHAPS), "record_type": renewal.pk})
    assert reply.status_code == 400 and "has_policy" in reply.json()
    assert page.status_code == 200 and "has policy: Enter true or false" in page.content.decode()
    assert not MassCreationJob.objects.exists() and not SalesRecord.objects.exists()


def test_workflows_refuse_an_invalid_value(api):
    reply = api.post("/api/sales-workflows/", {"name": "Maybe", "set_stage": "contacted", "criteria": PERHAPS}, format="json")
    assert reply.status_code == 400 and "has_policy" in str(reply.json()["criteria"])
    assert not SalesWorkflow.objects.exists()


def test_criteria_values_are_bounded_not_a_500(api):
    long = "x" * 100_000
    reply = api.get(f"/api/individuals/?last_name={long}")
    assert reply.status_code == 400 and reply.json() == {"last_name": ["At most 200 characters."]}
    reply = api.post("/api/individuals/search/", {"criteria": {"email": long}}, format="json")
    assert reply.status_code == 400 and "email" in reply.json()


@pytest.mark.parametrize("body", [[{"state": "FL"}], "state=FL", 42, None, {"criteria": None}, {"criteria": [1]}, {}])
def test_search_body_that_is_not_an_object_of_criteria_is_a_400(api, people, body):
    reply = api.post("/api/individuals/search/", json.dumps(body), content_type="application/json")
    assert reply.status_code == 400


# --- storing: defaults dropped, personal data hashed, version stamped --------------------------------
def test_clean_drops_defaults_and_keeps_everything_that_narrows():
    cleaned = criteria_clean({"state": ["FL"], "has_policy": "unknown", "first_name": "", "no_servicing_agent": "false"})
    assert cleaned == {"state": ["FL"], "no_servicing_agent": "false"}


def test_every_stored_criteria_has_the_current_version(api, agency_admin, renewal, django_capture_on_commit_callbacks):
    IndividualFactory(state="FL")
    api.post("/api/saved-searches/", {"name": "FL", "criteria": {"state": "FL"}}, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        api.post("/api/sales-record-jobs/", {"criteria": {"state": "FL"}, "record_type": renewal.pk}, format="json")
    api.post("/api/sales-workflows/", {"name": "FL", "set_stage": "contacted", "criteria": {"state": "FL"}}, format="json")
    assert SavedSearch.objects.get().criteria_version == CRITERIA_VERSION
    assert MassCreationJob.objects.get().criteria_version == CRITERIA_VERSION
    assert SalesWorkflow.objects.get().criteria_version == CRITERIA_VERSION


def test_version_1_criteria_are_upgraded_when_read():
    assert criteria_load({"state": "FL", "has_policy": "unknown", "city": ""}, 1) == {"state": "FL"}
    with pytest.raises(ValidationError):
        criteria_load({"state": "FL"}, CRITERIA_VERSION + 1)


def test_a_version_1_job_that_v1_would_have_widened_fails_instead(agency_admin, renewal, people):
    from salesrecords.services import mass_creation_run

    # v1 read "perhaps" as "not given" and would have created a record for everyone.
    job = MassCreationJob.objects.create(created_by=agency_admin, record_type=renewal, criteria=PERHAPS, criteria_version=1)
    job = mass_creation_run(job_id=job.pk)
    assert job.status == MassCreationJob.Status.FAILED and "has_policy" in job.reason
    assert not SalesRecord.objects.exists()


def test_a_renamed_filter_is_carried_by_its_upgrade(monkeypatch, agency_admin, renewal, people):
    """A future rename: bump the version and add the upgrade; rows saved before still find the same people."""
    from salesrecords.services import mass_creation_run

    IndividualFactory(state="TX")
    monkeypatch.setattr(criteria_impl, "CRITERIA_VERSION", CRITERIA_VERSION + 1)
    monkeypatch.setitem(criteria_impl.UPGRADES, CRITERIA_VERSION, lambda c: {("state" if k == "us_state" else k): v for k, v in c.items()})
    job = MassCreationJob.objects.create(
        created_by=agency_admin, record_type=renewal, criteria={"us_state": ["FL"]}, criteria_version=CRITERIA_VERSION
    )
    assert criteria_module.criteria_load(job.criteria, job.criteria_version) == {"state": ["FL"]}
    monkeypatch.delitem(criteria_impl.UPGRADES, CRITERIA_VERSION)
    # Without its upgrade the old key is refused: the job fails rather than dropping it and running wider.
    job = mass_creation_run(job_id=job.pk)
    assert job.status == MassCreationJob.Status.FAILED and not SalesRecord.objects.exists()


# --- for people -------------------------------------------------------------------------------------
def test_labels_show_choice_labels_and_formatted_dates_and_hide_defaults_and_personal_data():
    carrier = CarrierFactory(name="Humana")
    rows = dict(
        criteria_labels(
            criteria_clean(
                {
                    "state": ["FL", "TX"],
                    "record_status": "active",
                    "coverage_type": "medicare_advantage",
                    "carrier": [carrier.pk],
                    "date_of_birth_after": "1950-01-31",
                    "has_policy": "unknown",
                    "no_servicing_agent": "true",
                    "ssn": "123-45-6789",
                }
            )
        )
    )
    assert rows == {
        "SSN (exact)": "given, not shown",
        "State": "Florida, Texas",
        "Servicing agent": "None assigned (no servicing agent)",
        "Record status": "Active",
        "Date of birth": "from Jan 31, 1950",
        "Coverage types": "Medicare Advantage",
        "Carrier": "Humana",
    }


def test_job_page_describes_the_criteria_for_people(client, agency_admin, renewal):
    job = MassCreationJob.objects.create(
        created_by=agency_admin, record_type=renewal, criteria={"record_status": ["prospect"], "has_policy": "false"}
    )
    client.force_login(agency_admin)
    html = client.get(reverse("admin:salesrecords_masscreationjob_change", args=[job.pk])).content.decode()
    assert "Record status: Prospect" in html and "Has any policy: No" in html and "prospect<" not in html
