"""Issue 22, item 1: the mass-creation and export jobs never show a personal-data search key (keyed hash), in
the API, the admin or the audit log; their links carry it sealed."""

import json

import pytest
from django.urls import reverse

from accounts.models import AuditLog
from accounts.rights import Flag, Level
from individuals import personal_data
from individuals.models import ExportJob
from salesrecords.models import MassCreationJob
from tests.individuals.factories import IndividualFactory

from .factories import SalesRecordTypeFactory

pytestmark = pytest.mark.django_db
SSN = "123-45-6789"


@pytest.fixture
def ssn_hash():
    return personal_data.hash_value("ssn", SSN)


@pytest.fixture
def searcher(make_user):
    return make_user(individuals=Level.EDIT, sales=Level.EDIT, flags={Flag.SEARCH_BY_PERSONAL_DATA})


def _audit_text() -> str:
    return json.dumps(list(AuditLog.objects.values("summary", "data")), default=str)


def test_the_mass_creation_job_api_and_audit_never_show_the_key(api_as, searcher, ssn_hash, django_capture_on_commit_callbacks):
    IndividualFactory(ssn=SSN)
    renewal = SalesRecordTypeFactory(name="Renewal")
    client = api_as(searcher)
    with django_capture_on_commit_callbacks(execute=True):
        reply = client.post("/api/sales-record-jobs/", {"criteria": {"ssn": SSN}, "record_type": renewal.pk}, format="json")
    assert reply.status_code == 202, reply.json()
    job = MassCreationJob.objects.get()
    assert job.created == 1 and "ssn_hash" in job.criteria  # stored as its key, to run
    shown = [
        reply.content.decode(),
        client.get(f"/api/sales-record-jobs/{job.pk}/").content.decode(),
        client.get("/api/sales-record-jobs/").content.decode(),
        _audit_text(),
    ]
    for text in shown:
        assert ssn_hash not in text and "ssn_hash" not in text and SSN not in text
    assert client.get(f"/api/sales-record-jobs/{job.pk}/").json()["criteria"] == {"ssn": "(saved, not shown)"}


def test_the_mass_creation_admin_pages_never_show_the_key_and_link_it_sealed(client, searcher, ssn_hash, django_capture_on_commit_callbacks):
    IndividualFactory(ssn=SSN)
    renewal = SalesRecordTypeFactory(name="Renewal")
    job = MassCreationJob.objects.create(
        record_type=renewal, created_by=searcher, criteria={"ssn_hash": ssn_hash}, status=MassCreationJob.Status.SUCCEEDED
    )
    client.force_login(searcher)
    html = client.get(reverse("admin:salesrecords_masscreationjob_change", args=[job.pk])).content.decode()
    assert ssn_hash not in html
    assert f"ssn_hash={personal_data.SEALED}" in html  # the search link carries it sealed
    confirm = client.post(reverse("admin:salesrecords_masscreationjob_new"), {"criteria": json.dumps({"ssn": SSN})})
    html = confirm.content.decode()
    assert confirm.status_code == 200 and ssn_hash not in html and SSN not in html
    # what the confirmation page carries still starts the job
    given = json.loads(html.split('name="criteria" value="')[1].split('"')[0].replace("&quot;", '"'))
    assert given["ssn_hash"].startswith(personal_data.SEALED)
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(reverse("admin:salesrecords_masscreationjob_new"), {"criteria": json.dumps(given), "record_type": renewal.pk})
    assert started.status_code == 302
    assert MassCreationJob.objects.latest("pk").created == 1


def test_the_export_job_api_and_audit_never_show_the_key(api_as, make_user, settings, ssn_hash, django_capture_on_commit_callbacks):
    settings.INDIVIDUALS_EXPORT_STREAM_MAX = 1
    settings.MEDIA_ROOT = settings.VAR_DIR / "test-media"
    IndividualFactory.create_batch(2, ssn=SSN)
    client = api_as(make_user(individuals=Level.VISIBLE, flags={Flag.SEARCH_BY_PERSONAL_DATA}))
    with django_capture_on_commit_callbacks(execute=True):
        reply = client.post("/api/individuals/export/", {"criteria": {"ssn": SSN}}, format="json")
    assert reply.status_code == 202, reply.content
    job = ExportJob.objects.get()
    assert "ssn_hash" in job.criteria
    shown = [
        reply.content.decode(),
        client.get(f"/api/individuals/export/jobs/{job.pk}/").content.decode(),
        client.get("/api/individuals/export/jobs/").content.decode(),
        _audit_text(),
    ]
    for text in shown:
        assert ssn_hash not in text and "ssn_hash" not in text and SSN not in text
    assert client.get(f"/api/individuals/export/jobs/{job.pk}/").json()["criteria"] == {"ssn": "(saved, not shown)"}


def test_a_workflow_never_shows_the_key_and_keeps_it_when_sent_back(api, ssn_hash, make_user):
    renewal = SalesRecordTypeFactory(name="Renewal")
    reply = api.post(
        "/api/sales-workflows/",
        {"name": "By SSN", "record_types": [renewal.pk], "criteria": {"ssn": SSN}, "create_activity": True, "activity_subject": "Call"},
        format="json",
    )
    assert reply.status_code == 201, reply.json()
    shown = api.get(f"/api/sales-workflows/{reply.json()['id']}/").json()
    assert shown["criteria"] == {"ssn": "(saved, not shown)"} and ssn_hash not in json.dumps(shown)
    assert ssn_hash not in api.get("/api/sales-workflows/").content.decode()
    # what GET showed, sent back, keeps the saved key
    again = api.put(f"/api/sales-workflows/{shown['id']}/", {**shown, "name": "By SSN (renamed)"}, format="json")
    assert again.status_code == 200, again.json()
    from salesrecords.models import SalesWorkflow

    assert SalesWorkflow.objects.get(pk=shown["id"]).criteria == {"ssn_hash": ssn_hash}
    assert ssn_hash not in _audit_text()
