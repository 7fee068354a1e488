"""Bounded, streamed imports: size limit (413 / form error), row, column and cell caps, zip bombs,
chunked all-or-nothing runs, and large uploads run as import jobs with a report."""

import io
import time
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import AuditLog
from core.models import ImportJob
from hrsync.models import Employee
from hrsync.services import employee_census_import
from tests.hrsync.factories import BenefitsLevelFactory, EmployerGroupFactory

pytestmark = pytest.mark.django_db
HEADER = (
    "employer_group,first_name,last_name,email,date_of_birth,gender,hire_date,leave_date,annual_pay,"
    "pay_frequency,benefits_level,create_benefits_record\n"
)
URL = "/api/employees/import/"


@pytest.fixture(autouse=True)
def group():
    EmployerGroupFactory(account_number="CEN-1")
    BenefitsLevelFactory(name="Basic", package_code="BASIC")


def row(i: int, email: str | None = None) -> str:
    return f"CEN-1,Ann,N{i},{email or f'p{i}@census.example'},1980-01-01,F,2020-01-01,,50000,monthly,Basic,\n"


def census(n: int, bad: set[int] = frozenset()) -> bytes:
    return (HEADER + "".join(row(i, "not-an-email" if i in bad else None) for i in range(1, n + 1))).encode()


def upload(content: bytes, name="census.csv"):
    return SimpleUploadedFile(name, content)


def test_an_upload_over_the_limit_is_413_and_unread(api, settings):
    settings.IMPORT_MAX_BYTES = 2_000
    response = api.post(URL, {"file": upload(census(200)), "dry_run": False}, format="multipart")
    assert response.status_code == 413
    assert "imports take at most" in response.json()["detail"]
    assert not Employee.objects.exists()


def test_a_file_over_the_limit_in_the_admin_is_a_form_error(client, agency_admin, settings):
    settings.IMPORT_MAX_BYTES = 2_000
    client.force_login(agency_admin)
    page = client.post("/admin/hrsync/employee/import/", {"format": "0", "resource": "0", "import_file": upload(census(200))})
    assert page.status_code == 200
    assert "imports take at most" in str(page.context["form"].errors["import_file"])
    assert not Employee.objects.exists()


def zip_bomb() -> bytes:
    """A valid XLSX whose sheet unpacks to about 1000 times its compressed size."""
    book = openpyxl.Workbook()
    book.active.append(["employer_group", "first_name"])
    plain = io.BytesIO()
    book.save(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<sheetData>", b"<sheetData>" + b" " * 30_000_000)
            bomb.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def test_an_xlsx_zip_bomb_is_refused_before_it_is_unpacked(api):
    content = zip_bomb()
    assert len(content) < 100_000
    start = time.perf_counter()
    response = api.post(URL, {"file": upload(content, "census.xlsx")}, format="multipart")
    assert time.perf_counter() - start < 5
    assert response.status_code == 400
    assert "zip bomb" in response.json()["file"][0]


def test_the_zip_bomb_is_a_form_error_in_the_admin(client, agency_admin):
    client.force_login(agency_admin)
    page = client.post("/admin/hrsync/employee/import/", {"format": "1", "resource": "0", "import_file": upload(zip_bomb(), "census.xlsx")})
    assert "zip bomb" in str(page.context["form"].errors["import_file"])


@pytest.mark.parametrize(
    "setting, value, content, message",
    [
        ("IMPORT_MAX_ROWS", 5, census(6), "more than 5 rows"),
        ("IMPORT_MAX_COLUMNS", 5, census(1), "at most 5 are read"),
        ("IMPORT_MAX_CELL_CHARS", 100, (HEADER + row(1).replace("Ann", "A" * 101)).encode(), "longer than 100 characters"),
    ],
)
def test_caps_stop_reading_with_a_400_naming_the_cap(api, settings, setting, value, content, message):
    setattr(settings, setting, value)
    response = api.post(URL, {"file": upload(content), "dry_run": False}, format="multipart")
    assert response.status_code == 400 and message in response.json()["file"][0]
    assert not Employee.objects.exists()


def test_chunks_are_all_or_nothing_with_row_numbers_across_chunks(agency_admin, settings):
    settings.IMPORT_CHUNK_ROWS = 2
    report = employee_census_import(actor=agency_admin, content=census(7, bad={5}), dry_run=False)
    assert [r["row"] for r in report.row_errors] == [5] and "email" in report.row_errors[0]["errors"]
    assert not report.written and not Employee.objects.exists()
    report = employee_census_import(actor=agency_admin, content=census(7), dry_run=False)
    assert report.written and report.rows == 7 and report.totals == {"new": 7}
    assert Employee.objects.count() == 7
    assert AuditLog.objects.filter(action=AuditLog.Action.IMPORT).count() == 1  # one audit row for the file


def test_a_dry_run_in_chunks_writes_nothing(agency_admin, settings):
    settings.IMPORT_CHUNK_ROWS = 2
    report = employee_census_import(actor=agency_admin, content=census(5), dry_run=True)
    assert report.totals == {"new": 5} and not report.written and not Employee.objects.exists()


def test_reported_errors_are_capped_but_counted(agency_admin, settings):
    settings.IMPORT_MAX_REPORTED_ERRORS = 2
    report = employee_census_import(actor=agency_admin, content=census(6, bad={1, 2, 3, 4, 5}), dry_run=False)
    assert len(report.row_errors) == 2 and report.error_rows == 5


def test_a_large_upload_runs_as_a_job_with_a_report(api, agency_admin, make_user, settings, tmp_path, django_capture_on_commit_callbacks, api_as):
    settings.IMPORT_JOB_THRESHOLD_BYTES = 500
    settings.MEDIA_ROOT = tmp_path
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(URL, {"file": upload(census(20)), "dry_run": False}, format="multipart")
    assert response.status_code == 202
    job_id = response.json()["job"]
    job = api.get(f"/api/import-jobs/{job_id}/").json()
    assert job["status"] == "succeeded" and job["rows"] == 20 and job["written"] is True
    assert job["report"]["totals"] == {"new": 20}
    assert Employee.objects.count() == 20
    stored = tmp_path / ImportJob.objects.get(pk=job_id).file_path
    assert stored.parent.is_dir() and not stored.exists()  # the upload is deleted once imported
    # another user does not see it
    assert api_as(make_user()).get(f"/api/import-jobs/{job_id}/").status_code == 404


def test_a_large_upload_with_bad_rows_reports_them_on_the_job(api, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.IMPORT_JOB_THRESHOLD_BYTES = 500
    settings.MEDIA_ROOT = tmp_path
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(URL, {"file": upload(census(20, bad={17})), "dry_run": False}, format="multipart")
    job = ImportJob.objects.get(pk=response.json()["job"])
    assert job.status == ImportJob.Status.SUCCEEDED and not job.written and job.error_rows == 1
    assert job.report["row_errors"][0]["row"] == 17
    assert not Employee.objects.exists()


def test_a_large_upload_in_the_admin_becomes_a_job_shown_with_its_errors(
    client, agency_admin, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.IMPORT_JOB_THRESHOLD_BYTES = 500
    settings.MEDIA_ROOT = tmp_path
    client.force_login(agency_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/hrsync/employee/import/", {"format": "0", "resource": "0", "import_file": upload(census(20, bad={3}))})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Row 3" in page and "email" in page and "Succeeded" in page


def test_a_foreign_key_value_is_looked_up_once_per_chunk(agency_admin, django_assert_max_num_queries):
    # 40 rows naming the same employer group and benefits level: without the per-chunk memo each row
    # would look both up again (18 queries a row on SQLite and PostgreSQL alike).
    with django_assert_max_num_queries(40 * 16):
        report = employee_census_import(actor=agency_admin, content=census(40), dry_run=False)
    assert report.written


def _queued_job(api, settings, tmp_path, captured, content=None):
    settings.IMPORT_JOB_THRESHOLD_BYTES = 500
    settings.MEDIA_ROOT = tmp_path
    response = api.post(URL, {"file": upload(content or census(20)), "dry_run": False}, format="multipart")
    assert response.status_code == 202 and captured  # queued after commit, not run yet
    return ImportJob.objects.get(pk=response.json()["job"])


def test_a_dead_workers_import_job_is_queued_again_by_the_sweep(api, settings, tmp_path, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    from core.importing.jobs import import_jobs_sweep

    with django_capture_on_commit_callbacks(execute=False) as captured:
        job = _queued_job(api, settings, tmp_path, True)
    # given: a worker took it and died (its transaction rolled back; its lease ran out)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING, tries=1, lease_until=timezone.now() - timedelta(seconds=1))
    # a live worker's job is left alone
    alive = _queued_job(api, settings, tmp_path, True)
    ImportJob.objects.filter(pk=alive.pk).update(
        status=ImportJob.Status.RUNNING, tries=1, lease_until=timezone.now() + timedelta(seconds=settings.JOB_LEASE_SECONDS)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert import_jobs_sweep() == 1
    job.refresh_from_db()
    assert job.status == ImportJob.Status.SUCCEEDED and job.written and job.rows == 20 and job.tries == 2
    assert Employee.objects.count() == 20
    alive.refresh_from_db()
    assert (alive.status, alive.tries) == (ImportJob.Status.RUNNING, 1)
    assert len(captured) >= 1
    # the 15-second sweep queues a dead worker's job again within a minute
    assert settings.JOB_LEASE_SECONDS + 15 <= 60


def test_a_job_whose_import_crashes_is_failed_with_the_reason(api, settings, tmp_path, monkeypatch, django_capture_on_commit_callbacks):
    from core.importing import base

    def crash(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(base, "import_run", crash)
    with django_capture_on_commit_callbacks(execute=False):
        job = _queued_job(api, settings, tmp_path, True)
    from core.importing.jobs import import_job_run

    with pytest.raises(RuntimeError):
        import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and job.reason == "the database went away"


# --- no long write transaction: rows checked first, writing nothing; a job writes in short chunks ----------
def _writes(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].split()[0].upper() in ("INSERT", "UPDATE", "DELETE", "SAVEPOINT", "BEGIN")]


def test_checking_a_file_opens_no_transaction_and_writes_nothing(agency_admin, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.IMPORT_CHUNK_ROWS = 2
    with CaptureQueriesContext(connection) as dry_run:
        report = employee_census_import(actor=agency_admin, content=census(5), dry_run=True)
    with CaptureQueriesContext(connection) as invalid:
        refused = employee_census_import(actor=agency_admin, content=census(5, bad={4}), dry_run=False)
    assert report.rows == 5 and report.totals == {"new": 5} and refused.error_rows == 1 and not refused.written
    assert _writes(dry_run) == [] and _writes(invalid) == []
    assert not Employee.objects.exists()


def _job(api, settings, tmp_path, content, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        return _queued_job(api, settings, tmp_path, True, content=content)


def test_an_import_job_writes_one_short_transaction_per_chunk(api, settings, tmp_path, django_capture_on_commit_callbacks):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from core.importing.jobs import import_job_run

    settings.IMPORT_CHUNK_ROWS = 5
    job = _job(api, settings, tmp_path, census(20), django_capture_on_commit_callbacks)
    with CaptureQueriesContext(connection) as queries:
        job = import_job_run(job_id=job.pk)
    assert (job.status, job.written, job.rows, job.rows_written) == (ImportJob.Status.SUCCEEDED, True, 20, 20)
    assert Employee.objects.count() == 20
    # the test's own transaction wraps them, so each chunk's transaction shows as a savepoint of its own
    chunk_transactions = [q for q in _writes(queries) if q.startswith("SAVEPOINT") and "import" not in q]
    assert len(chunk_transactions) >= 4
    assert not list(tmp_path.glob("imports/*"))  # the upload and its undo log are gone


def test_a_chunk_that_fails_undoes_the_chunks_written_before_it(api, settings, tmp_path, monkeypatch, django_capture_on_commit_callbacks):
    from core.importing.base import ImportUndone
    from core.importing.jobs import import_job_run
    from hrsync.resources import EmployeeResource

    settings.IMPORT_CHUNK_ROWS = 5
    kept = employee_census_import(actor=None, content=census(3), dry_run=False)  # rows 1-3 exist before
    assert kept.written
    before = {e.pk: (e.last_name, e.annual_pay) for e in Employee.objects.all()}
    changed = (HEADER + "".join(row(i).replace(",50000,", ",61000,") for i in range(1, 21))).encode()
    job = _job(api, settings, tmp_path, changed, django_capture_on_commit_callbacks)
    calls, save_chunk = [], EmployeeResource.save_chunk

    def third_chunk_breaks(self, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("the disk is full")
        return save_chunk(self, **kwargs)

    monkeypatch.setattr(EmployeeResource, "save_chunk", third_chunk_breaks)
    with pytest.raises(ImportUndone):
        import_job_run(job_id=job.pk)
    # then the two chunks written are undone: the three employees as they were, none of the new ones
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and not job.written
    assert "the disk is full" in job.reason and "nothing was imported" in job.reason
    assert {e.pk: (e.last_name, e.annual_pay) for e in Employee.objects.all()} == before
    assert not list(tmp_path.glob("imports/*.undo"))
    undone = AuditLog.objects.filter(action=AuditLog.Action.IMPORT, summary__contains="undone").get()
    assert undone.data == {"removed": 7, "restored": 3}


class _WorkerKilled(BaseException):
    """Stands for SIGKILL: nothing after it runs (no undo, no settle)."""


def test_the_next_try_of_a_job_whose_worker_died_mid_write_undoes_it_and_writes_exactly(
    api, settings, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from core.importing import base
    from core.importing.jobs import import_job_run, import_jobs_sweep
    from hrsync.resources import EmployeeResource

    settings.IMPORT_CHUNK_ROWS = 5
    job = _job(api, settings, tmp_path, census(20), django_capture_on_commit_callbacks)
    calls, save_chunk = [], EmployeeResource.save_chunk

    def dies_at_the_third_chunk(self, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise _WorkerKilled
        return save_chunk(self, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(EmployeeResource, "save_chunk", dies_at_the_third_chunk)
        patch.setattr(base, "_undo", lambda *args, **kwargs: None)  # a killed worker undoes nothing
        with pytest.raises(_WorkerKilled):
            import_job_run(job_id=job.pk)
    assert Employee.objects.count() == 10 and list(tmp_path.glob("imports/*.undo"))  # two chunks in, and their log
    ImportJob.objects.filter(pk=job.pk).update(lease_until=timezone.now() - timedelta(seconds=1))

    with django_capture_on_commit_callbacks(execute=True):
        assert import_jobs_sweep() == 1
    job.refresh_from_db()
    assert (job.status, job.written, job.tries, job.rows_written) == (ImportJob.Status.SUCCEEDED, True, 2, 20)
    assert Employee.objects.count() == 20 and Employee.objects.values("email").distinct().count() == 20
    assert not list(tmp_path.glob("imports/*"))


def test_the_import_job_page_shows_live_progress(client, agency_admin, settings, tmp_path, api, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    settings.IMPORT_JOB_THRESHOLD_BYTES = 500
    job = _job(api, settings, tmp_path, census(20), django_capture_on_commit_callbacks)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING, rows=3000, rows_written=1500, started_at=timezone.now() - timedelta(seconds=300)
    )  # 4,500 rows handled in 300 s (a slow test run adds a little): 15 rows/s
    client.force_login(agency_admin)
    url = f"/admin/core/importjob/{job.pk}/change/"
    part = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert f'hx-get="{url}"' in part and "(Running)</h1>" in part and 'style="width: 75%"' in part
    assert 'id="job-rows-written">1,500<' in part and 'id="job-rate">15<' in part and 'id="job-rows-total">3,000<' in part
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.SUCCEEDED, rows_written=3000, finished_at=timezone.now())
    page = client.get(url).content.decode()
    assert "(Succeeded)</h1>" in page and "hx-get" not in page and "ad-badge-successful" in page


def test_with_the_broker_away_the_upload_is_kept_and_the_sweep_sends_it_later(
    api, settings, tmp_path, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    from datetime import timedelta

    from django.utils import timezone
    from kombu.exceptions import OperationalError

    from config.celery import app
    from core.importing.jobs import import_jobs_sweep

    # given: no broker to publish to (a worker-less machine, a Redis restart)
    def broker_away(*args, **kwargs):
        raise OperationalError("Error 111 connecting to the broker. Connection refused.")

    eager = app.conf.task_always_eager
    with monkeypatch.context() as away:
        away.setattr(type(app), "producer_or_acquire", broker_away)
        app.conf.task_always_eager = False
        try:
            with django_capture_on_commit_callbacks(execute=True):
                job = _queued_job(api, settings, tmp_path, True)
        finally:
            app.conf.task_always_eager = eager
    # then: the person's upload is accepted and kept, queued, and the lost message is said in the log
    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.QUEUED
    assert "not sent now" in caplog.text
    # and when the broker is back, the sweep sends it once its lease has run out
    ImportJob.objects.filter(pk=job.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert import_jobs_sweep() == 1
    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.SUCCEEDED
