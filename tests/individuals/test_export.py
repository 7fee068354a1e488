"""CSV export of a whole search: every row, masked, streamed in chunks, or a background job; audited."""

import csv
import io

import pytest
from django.db import connection
from django.urls import reverse

from accounts.models import AuditLog
from accounts.rights import Flag, Level
from individuals.models import ExportJob, Individual
from individuals.selectors import individual_list
from individuals.services import exports

from .factories import CustomFieldFactory, IndividualFactory, PolicyFactory

pytestmark = pytest.mark.django_db
SSN = "123-45-6789"


def _rows(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode())))


def _streamed(response) -> bytes:
    assert response.streaming, "the export is streamed"
    return b"".join(response.streaming_content)


@pytest.fixture
def viewer(make_user):
    return make_user(individuals=Level.VISIBLE)


@pytest.fixture
def full_viewer(make_user):
    return make_user(individuals=Level.VISIBLE, flags={Flag.VIEW_FULL_PERSONAL_DATA})


def test_export_has_every_row_of_the_search_not_a_page_with_masked_personal_data(viewer, api_as):
    texans = IndividualFactory.create_batch(60, state="TX", ssn=SSN, medicare_beneficiary_id="1EG4-TE5-MK73")
    IndividualFactory.create_batch(3, state="FL")

    response = api_as(viewer).get("/api/individuals/export/?state=TX")

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    content = _streamed(response)
    rows = _rows(content)
    assert sorted(int(r["id"]) for r in rows) == sorted(t.pk for t in texans)  # 60 > the API page of 50
    assert {r["ssn"] for r in rows} == {"***-**-6789"}
    assert {r["medicare_beneficiary_id"] for r in rows} == {"****MK73"}
    assert b"123-45-6789" not in content and b"123456789" not in content and b"1EG4" not in content


def test_export_columns_include_custom_fields_and_agent(viewer, api_as):
    CustomFieldFactory(key="client_tier", field_type="dropdown", options=["Gold", "Silver"])
    IndividualFactory(custom_fields={"client_tier": "Gold"}, first_name="Ann", nickname='Says "hi", often')
    rows = _rows(_streamed(api_as(viewer).get("/api/individuals/export/")))
    assert rows[0]["cf_client_tier"] == "Gold" and rows[0]["first_name"] == "Ann"
    assert rows[0]["nickname"] == 'Says "hi", often'  # quoting survives
    assert "servicing_agent_name" in rows[0]


def test_policy_criteria_apply_to_the_export(viewer, api_as):
    match = IndividualFactory()
    PolicyFactory(individual=match, coverage_type="medicare_advantage", status="active")
    other = IndividualFactory()
    PolicyFactory(individual=other, coverage_type="medicare_advantage", status="terminated")
    PolicyFactory(individual=other, coverage_type="dental", status="active")
    rows = _rows(_streamed(api_as(viewer).get("/api/individuals/export/?coverage_type=medicare_advantage&policy_status=active")))
    assert [int(r["id"]) for r in rows] == [match.pk]


def test_export_is_streamed_in_chunks_not_built_in_memory(viewer):
    IndividualFactory.create_batch(25)
    queryset = individual_list(filters={})
    blocks = list(exports.export_csv_blocks(queryset, chunk_rows=10, use_copy=False))
    # The header, then one block per 10 rows: the rows never sit in memory together.
    assert len(blocks) == 1 + 3
    assert len(_rows(b"".join(blocks))) == 25


def test_full_personal_data_only_when_asked_and_allowed_and_audited(viewer, full_viewer, api_as):
    IndividualFactory(ssn=SSN)
    # Masked by default, even for a user with the right.
    assert _rows(_streamed(api_as(full_viewer).get("/api/individuals/export/")))[0]["ssn"] == "***-**-6789"
    assert api_as(viewer).get("/api/individuals/export/?reveal=ssn").status_code == 403
    assert api_as(full_viewer).get("/api/individuals/export/?reveal=passport").status_code == 400

    response = api_as(full_viewer).get("/api/individuals/export/?reveal=ssn")

    row = _rows(_streamed(response))[0]
    assert row["ssn"] == SSN and row["drivers_license"] == ""
    reveal = AuditLog.objects.filter(action=AuditLog.Action.REVEAL).get()
    assert reveal.actor == full_viewer and reveal.data["fields"] == ["ssn"]


def test_every_export_is_audited_with_count_and_criteria(viewer, api_as):
    IndividualFactory.create_batch(2, state="TX")
    _streamed(api_as(viewer).get("/api/individuals/export/?state=TX"))
    entry = AuditLog.objects.filter(action=AuditLog.Action.EXPORT).get()
    assert entry.actor == viewer
    assert entry.data["count"] == 2 and entry.data["criteria"] == {"state": "TX"}
    assert entry.data["full_personal_data"] == []


def test_personal_data_criteria_never_in_the_url_but_accepted_in_the_body(make_user, api_as):
    viewer = make_user(individuals=Level.VISIBLE, flags={Flag.SEARCH_BY_PERSONAL_DATA})
    person = IndividualFactory(ssn=SSN)
    IndividualFactory()
    assert api_as(viewer).get(f"/api/individuals/export/?ssn={SSN}").status_code == 400
    response = api_as(viewer).post("/api/individuals/export/", {"criteria": {"ssn": SSN}}, format="json")
    assert [int(r["id"]) for r in _rows(_streamed(response))] == [person.pk]
    assert SSN not in str(AuditLog.objects.filter(action=AuditLog.Action.EXPORT).get().data)


def test_bad_criteria_are_400_with_field_errors(viewer, api_as):
    response = api_as(viewer).get("/api/individuals/export/?state=ZZ&policy_renewal_after=nope")
    assert response.status_code == 400
    assert {"state", "policy_renewal"} <= set(response.json())
    assert not AuditLog.objects.filter(action=AuditLog.Action.EXPORT).exists()


def test_export_needs_the_individuals_view_right(make_user, api_as):
    assert api_as(make_user(policies=Level.VISIBLE)).get("/api/individuals/export/").status_code == 403


def test_large_result_becomes_a_background_job_with_an_owner_checked_download(
    viewer, make_user, settings, django_capture_on_commit_callbacks, api_as
):
    settings.INDIVIDUALS_EXPORT_STREAM_MAX = 5
    settings.MEDIA_ROOT = settings.VAR_DIR / "test-media"
    people = IndividualFactory.create_batch(7, ssn=SSN)

    with django_capture_on_commit_callbacks(execute=True):  # the task runs eagerly after commit
        response = api_as(viewer).get("/api/individuals/export/")

    assert response.status_code == 202
    job = ExportJob.objects.get(pk=response.json()["id"])
    assert response["Location"].endswith(f"/api/individuals/export/jobs/{job.pk}/")
    status = api_as(viewer).get(f"/api/individuals/export/jobs/{job.pk}/").json()
    assert status["status"] == "succeeded" and status["row_count"] == 7
    assert status["download_url"].endswith(f"/api/individuals/export/jobs/{job.pk}/download/")
    assert job.file_path.startswith("exports/")

    download = api_as(viewer).get(status["download_url"])
    assert download.status_code == 200
    rows = _rows(b"".join(download.streaming_content))
    assert sorted(int(r["id"]) for r in rows) == sorted(p.pk for p in people)
    assert {r["ssn"] for r in rows} == {"***-**-6789"}

    stranger = make_user(individuals=Level.VISIBLE, flags={Flag.VIEW_FULL_PERSONAL_DATA})
    assert api_as(stranger).get(status["download_url"]).status_code == 403
    assert api_as(stranger).get(f"/api/individuals/export/jobs/{job.pk}/").status_code == 404
    entry = AuditLog.objects.filter(action=AuditLog.Action.EXPORT, data__how="job").get()
    assert entry.data["count"] == 7 and entry.data["job"] == job.pk
    download = AuditLog.objects.filter(action=AuditLog.Action.EXPORT, data__how="download").get()
    assert download.actor == viewer and download.data["job"] == job.pk


def test_job_run_is_idempotent(viewer, settings):
    settings.MEDIA_ROOT = settings.VAR_DIR / "test-media"
    IndividualFactory.create_batch(2)
    job = ExportJob.objects.create(owner=viewer, criteria={})
    assert exports.export_job_run(job_id=job.pk).status == ExportJob.Status.SUCCEEDED
    assert exports.export_job_run(job_id=job.pk) is None  # a duplicate delivery does nothing
    assert AuditLog.objects.filter(action=AuditLog.Action.EXPORT).count() == 1


def test_a_dead_workers_export_job_is_queued_again_by_the_sweep_and_a_live_one_is_left_alone(viewer, settings, django_capture_on_commit_callbacks):
    from django.utils import timezone

    settings.MEDIA_ROOT = settings.VAR_DIR / "test-media"
    IndividualFactory.create_batch(3)
    now = timezone.now()
    # given: a worker took a job and died mid-file (its lease ran out a second ago), another is running
    dead = ExportJob.objects.create(
        owner=viewer, criteria={}, status=ExportJob.Status.RUNNING, tries=1, started_at=now, lease_until=now - timezone.timedelta(seconds=1)
    )
    alive = ExportJob.objects.create(
        owner=viewer, criteria={}, status=ExportJob.Status.RUNNING, tries=1, started_at=now, lease_until=now + timezone.timedelta(seconds=25)
    )
    # a duplicate message of the live job does not take it over
    assert exports.export_job_run(job_id=alive.pk) is None
    with django_capture_on_commit_callbacks(execute=True):
        assert exports.export_jobs_sweep(now=now) == 1
        assert exports.export_jobs_sweep(now=now) == 0  # enqueued once, whatever the sweeps
    dead.refresh_from_db()
    assert dead.status == ExportJob.Status.SUCCEEDED and dead.row_count == 3 and dead.tries == 2
    alive.refresh_from_db()
    assert (alive.status, alive.tries) == (ExportJob.Status.RUNNING, 1)
    # the 15-second sweep queues a dead worker's job again within a minute
    assert settings.JOB_LEASE_SECONDS + 15 <= 60


def test_download_of_an_unfinished_job_is_refused(viewer, api_as):
    job = ExportJob.objects.create(owner=viewer, criteria={})
    response = api_as(viewer).get(f"/api/individuals/export/jobs/{job.pk}/download/")
    assert response.status_code == 400 and "status" in response.json()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the COPY path is PostgreSQL's")
def test_copy_path_and_cursor_path_write_the_same_rows():
    CustomFieldFactory(key="newsletter", field_type="checkbox")
    IndividualFactory(ssn=SSN, nickname="a, b", custom_fields={"newsletter": True})
    IndividualFactory(middle_name="", nickname='"quoted"')
    queryset = individual_list(filters={})
    via_copy = _rows(b"".join(exports.export_csv_blocks(queryset, use_copy=True)))
    via_cursor = _rows(b"".join(exports.export_csv_blocks(queryset, use_copy=False)))
    assert via_copy == via_cursor and len(via_copy) == 2


def test_admin_export_csv_button_streams_the_search(client, viewer):
    IndividualFactory.create_batch(2, state="TX", ssn=SSN)
    IndividualFactory(state="FL")
    client.force_login(viewer)
    response = client.get(reverse("admin:individuals_individual_export_csv") + "?state=TX")
    assert response.status_code == 200
    rows = _rows(b"".join(response.streaming_content))
    assert len(rows) == 2 and {r["ssn"] for r in rows} == {"***-**-6789"}
    # Full data needs the right, and a POST.
    refused = client.post(reverse("admin:individuals_individual_export_csv"), {"reveal": "all"})
    assert refused.status_code == 403


def test_admin_large_export_redirects_to_the_job_page(client, viewer, settings, django_capture_on_commit_callbacks):
    settings.INDIVIDUALS_EXPORT_STREAM_MAX = 1
    settings.MEDIA_ROOT = settings.VAR_DIR / "test-media"
    IndividualFactory.create_batch(2)
    client.force_login(viewer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(reverse("admin:individuals_individual_export_csv"))
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("admin:individuals_exportjob_change", args=[job.pk])
    page = client.get(response["Location"]).content.decode()
    assert "Download CSV" in page
    download = client.get(reverse("admin:individuals_exportjob_download", args=[job.pk]))
    assert len(_rows(b"".join(download.streaming_content))) == 2


def test_export_of_an_empty_search_has_just_the_header(viewer, api_as):
    rows = _streamed(api_as(viewer).get("/api/individuals/export/?state=WY"))
    assert rows.decode().splitlines()[0].startswith("id,first_name") and len(rows.decode().splitlines()) == 1
    assert Individual.objects.count() == 0


@pytest.mark.worker
def test_a_real_worker_writes_a_large_export(celery_worker_process, make_user, settings, api_as):
    import time

    settings.INDIVIDUALS_EXPORT_STREAM_MAX = 3
    user = make_user(individuals=Level.VISIBLE)
    people = IndividualFactory.create_batch(5, ssn=SSN)
    response = api_as(user).post("/api/individuals/export/", {"criteria": {}}, format="json")
    assert response.status_code == 202
    url = response["Location"]
    for _ in range(120):
        status = api_as(user).get(url).json()
        if status["status"] in ("succeeded", "failed"):
            break
        time.sleep(0.5)
    assert status["status"] == "succeeded", status
    rows = _rows(b"".join(api_as(user).get(status["download_url"]).streaming_content))
    assert sorted(int(r["id"]) for r in rows) == sorted(p.pk for p in people)
    assert {r["ssn"] for r in rows} == {"***-**-6789"}


def test_deleting_a_job_removes_its_file(viewer, settings, django_capture_on_commit_callbacks, api_as):
    settings.MEDIA_ROOT = settings.VAR_DIR / "test-media"
    IndividualFactory()
    job = exports.export_job_run(job_id=ExportJob.objects.create(owner=viewer, criteria={}).pk)
    path = settings.MEDIA_ROOT / job.file_path
    assert path.is_file()
    with django_capture_on_commit_callbacks(execute=True):
        assert api_as(viewer).delete(f"/api/individuals/export/jobs/{job.pk}/").status_code == 204
    assert not path.exists() and not ExportJob.objects.exists()


def test_exports_are_throttled_with_the_export_scope(viewer, settings, api_as):
    from django.core.cache import cache

    cache.clear()
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "export": "2/min"},
    }
    client = api_as(viewer)
    assert [client.get("/api/individuals/export/").status_code for _ in range(3)] == [200, 200, 429]


def test_a_job_file_is_encrypted_at_rest_readable_by_its_owner_only_and_expires(viewer, settings, api_as):
    import stat

    from django.utils import timezone

    settings.MEDIA_ROOT = settings.VAR_DIR / "test-media"
    settings.INDIVIDUALS_EXPORT_EXPIRY_HOURS = 24
    IndividualFactory(last_name="Zebediah", ssn=SSN)
    job = exports.export_job_run(job_id=ExportJob.objects.create(owner=viewer, criteria={}).pk)
    path = settings.MEDIA_ROOT / job.file_path
    assert b"Zebediah" not in path.read_bytes() and b"6789" not in path.read_bytes()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert job.expires_at == job.finished_at + timezone.timedelta(hours=24)
    # before expiry: the owner downloads the clear CSV
    rows = _rows(b"".join(api_as(viewer).get(f"/api/individuals/export/jobs/{job.pk}/download/").streaming_content))
    assert [r["last_name"] for r in rows] == ["Zebediah"]
    # the sweep after expiry deletes the file; the download then says so
    assert exports.export_jobs_expire(now=job.expires_at - timezone.timedelta(minutes=1)) == 0
    assert exports.export_jobs_expire(now=job.expires_at) == 1
    job.refresh_from_db()
    assert job.status == ExportJob.Status.SUCCEEDED and job.expired and not job.file_path and not path.exists()
    assert str(job).endswith("(Expired)")
    gone = api_as(viewer).get(f"/api/individuals/export/jobs/{job.pk}/download/")
    assert gone.status_code == 400 and "expired" in str(gone.json())


def test_the_expiry_sweep_is_on_the_beat_schedule():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="individuals.tasks.export_jobs_expire_task")
    assert task.enabled and task.interval.every == 1 and task.interval.period == "hours"


def test_timestamps_are_written_the_same_by_every_export_path(viewer, api_as):
    """ISO 8601 in UTC to the second, on both databases and from the admin's import-export resource alike."""
    import datetime

    from individuals.resources import IndividualResource

    when = datetime.datetime(2026, 12, 2, 15, 2, 7, 123456, tzinfo=datetime.UTC)
    person = IndividualFactory()
    Individual.objects.filter(pk=person.pk).update(created_at=when, updated_at=when)
    (row,) = _rows(_streamed(api_as(viewer).get("/api/individuals/export/")))
    assert row["created_at"] == row["updated_at"] == "2026-12-02T15:02:07Z"
    exported = IndividualResource().export(queryset=Individual.objects.all()).dict[0]
    assert exported["created_at"] == exported["updated_at"] == "2026-12-02T15:02:07Z"
