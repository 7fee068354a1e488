"""Set-based imports of individuals and policies, as a job writes them (issue 20): a chunk's queries do not
grow with its rows, N rows give exactly N audited records, a chunk that finds the database locked is written
again, and a failure half-way undoes everything; the job shows rows done, rows total and rows/s."""

import csv
import io
import math

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext

from accounts.models import AuditLog
from accounts.rights import Level
from core.importing import import_dataset, import_run
from core.importing.base import ImportUndone
from core.importing.undo import UndoLog
from individuals import personal_data
from individuals.models import Individual, Policy
from individuals.resources import RESOURCES, IndividualResource

from .factories import CarrierFactory, CustomFieldFactory, IndividualFactory

pytestmark = pytest.mark.django_db
HEADER = ["first_name", "last_name", "record_status", "state", "date_of_birth", "ssn", "drivers_license", "cf_tier"]


@pytest.fixture(autouse=True)
def tier():
    CustomFieldFactory(key="tier", field_type="dropdown", options=["Gold", "Silver"])


@pytest.fixture
def editor(make_user):
    return make_user(individuals=Level.EDIT, policies=Level.EDIT)


def _ssn(i: int) -> str:
    return f"123-{10 + i // 9999:02d}-{1 + i % 9999:04d}"


def _csv(rows: list[list], header=HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def people(n: int, first: int = 0) -> bytes:
    return _csv([["Ann", f"Lee{i}", "active", "TX", "1950-01-02", _ssn(i), f"D{i:07d}", "Gold"] for i in range(first, first + n)])


def _run(actor, kind: str, content: bytes, tmp_path, *, dry_run=False):
    """The import as an import job runs it: checked, then written one short transaction per chunk."""
    return import_run(
        resource=RESOURCES[kind](),
        kind=kind,
        dataset=import_dataset(content, "csv"),
        actor=actor,
        dry_run=dry_run,
        file_format="csv",
        undo_log=UndoLog(tmp_path / f"{kind}.undo"),
    )


def _capture() -> CaptureQueriesContext:
    ContentType.objects.clear_cache()  # each run looks its content type up once, as a new process would
    return CaptureQueriesContext(connection)


def _counted(queries) -> tuple[int, int]:
    """(statements other than an individuals INSERT, individuals INSERTs): SQLite takes at most 999
    parameters a statement, so Django splits a bulk insert of a wide row in parts; PostgreSQL does not."""
    inserts = [q for q in queries if q["sql"].startswith('INSERT INTO "individuals_individual"')]
    return len(queries) - len(inserts), len(inserts)


def _insert_statements(rows: int) -> int:
    fields = [f for f in Individual._meta.concrete_fields if not f.primary_key]
    batch = connection.ops.bulk_batch_size(fields, [Individual()] * rows) or rows
    return math.ceil(rows / min(batch, 1000))


@pytest.mark.parametrize("rows", [10, 40])
def test_a_chunk_costs_the_same_queries_whatever_its_rows(editor, settings, tmp_path, rows):
    settings.IMPORT_CHUNK_ROWS = 100  # the whole file is one chunk
    with _capture() as created:
        report = _run(editor, "individuals", people(rows), tmp_path)
    assert report.written and report.totals == {"new": rows}
    others, inserts = _counted(created.captured_queries)
    # check pass: custom fields (2), the chunk's records by id and by SSN, agents by NPN (none here);
    # write pass: the same reads, then the chunk's transaction: its records, their audit rows, the file's audit
    assert (others, inserts) == (CREATED_QUERIES[connection.vendor], _insert_statements(rows))
    changed = _csv([[p.pk, "Anna", p.last_name, "active", "FL", "", "", "Silver"] for p in Individual.objects.all()], header=["id", *HEADER])
    with _capture() as updated:
        report = _run(editor, "individuals", changed, tmp_path)
    assert report.written and report.totals == {"update": rows}
    assert _counted(updated.captured_queries) == (UPDATED_QUERIES[connection.vendor], 0)


CREATED_QUERIES = {"sqlite": 13, "postgresql": 13}
UPDATED_QUERIES = {"sqlite": 18, "postgresql": 18}


def test_policies_chunk_queries_do_not_grow_with_its_rows(editor, settings, tmp_path):
    settings.IMPORT_CHUNK_ROWS = 100
    carrier, person = CarrierFactory(code="humana"), IndividualFactory()
    header = ["carrier_code", "policy_number", "individual_id", "coverage_type", "status", "effective_date", "premium"]
    counts = []
    for first, rows in ((0, 10), (100, 40)):
        content = _csv(
            [["humana", f"H-{i}", person.pk, "dental", "active", "2026-01-01", "35.10"] for i in range(first, first + rows)], header=header
        )
        with _capture() as queries:
            report = _run(editor, "policies", content, tmp_path)
        assert report.written and report.totals == {"new": rows}
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1]
    assert Policy.objects.filter(carrier=carrier).count() == 50


def test_n_rows_in_chunks_give_exactly_n_records_each_audited(editor, settings, tmp_path):
    settings.IMPORT_CHUNK_ROWS = 10
    report = _run(editor, "individuals", people(25), tmp_path)
    assert report.written and report.rows == 25 and report.totals == {"new": 25}
    assert Individual.objects.count() == 25 and Individual.objects.values("ssn_hash").distinct().count() == 25
    person = Individual.objects.get(last_name="Lee7")
    assert personal_data.reveal(person, "ssn") == _ssn(7).replace("-", "") and person.custom_fields == {"tier": "Gold"}
    created = AuditLog.objects.filter(action=AuditLog.Action.CREATE, content_type__model="individual")
    assert created.count() == 25 and set(created.values_list("object_id", flat=True)) == {
        str(pk) for pk in Individual.objects.values_list("pk", flat=True)
    }
    assert AuditLog.objects.filter(action=AuditLog.Action.IMPORT).count() == 1
    assert not [e for e in AuditLog.objects.all() if _ssn(7) in str(e.data) or _ssn(7).replace("-", "") in str(e.data)]
    assert not list(tmp_path.glob("*.undo"))
    # the same file again: every row finds its individual by SSN, and each is audited as saved
    again = _run(editor, "individuals", people(25), tmp_path)
    assert again.totals == {"update": 25} and Individual.objects.count() == 25
    assert AuditLog.objects.filter(action=AuditLog.Action.UPDATE, summary="Saved without changes").count() == 25


def test_a_changed_individual_is_audited_with_its_changes_and_its_personal_data_masked(editor, settings, tmp_path):
    person = IndividualFactory(first_name="Old", ssn="123-45-6789", custom_fields={"tier": "Gold"})
    row = [person.pk, "New", person.last_name, person.record_status, person.state, person.date_of_birth or "", "123-45-6780", "", "Silver"]
    content = _csv([row], header=["id", *HEADER])
    assert _run(editor, "individuals", content, tmp_path).written
    person.refresh_from_db()
    assert (person.first_name, person.custom_fields, personal_data.reveal(person, "ssn")) == ("New", {"tier": "Silver"}, "123456780")
    entry = AuditLog.objects.get(action=AuditLog.Action.UPDATE, object_id=str(person.pk))
    assert set(entry.data["fields"]) == {"first_name", "ssn", "custom_fields"} and entry.summary.startswith("Changed ")
    assert entry.data["changes"]["first_name"] == {"label": "First name", "old": "Old", "new": "New"}
    assert "123456780" not in str(entry.data) and "6780" not in str(entry.data)


def test_a_repeated_ssn_in_a_chunk_makes_one_individual(editor, settings, tmp_path):
    rows = [["Ann", "Lee", "active", "TX", "", _ssn(1), "", ""], ["Annie", "Lee", "active", "TX", "", _ssn(1), "", ""]]
    report = _run(editor, "individuals", _csv(rows), tmp_path)
    assert report.written and Individual.objects.get().first_name == "Annie"


def test_a_chunk_that_finds_the_database_locked_is_written_again(editor, settings, tmp_path, monkeypatch, caplog):
    settings.IMPORT_CHUNK_ROWS, settings.IMPORT_CHUNK_BUSY_PAUSE_SECONDS = 10, 0
    calls, save_chunk = [], IndividualResource.save_chunk

    def second_chunk_locked_twice(self, **kwargs):
        calls.append(1)
        if len(calls) in (2, 3):  # the second chunk, and its first retry
            raise OperationalError("database is locked")
        return save_chunk(self, **kwargs)

    monkeypatch.setattr(IndividualResource, "save_chunk", second_chunk_locked_twice)
    report = _run(editor, "individuals", people(25), tmp_path)
    assert len(calls) == 5  # three chunks, the second written three times
    assert report.written and report.rows == 25 and report.totals == {"new": 25} and report.row_errors == []
    assert Individual.objects.count() == 25 and Individual.objects.values("last_name").distinct().count() == 25
    assert AuditLog.objects.filter(action=AuditLog.Action.CREATE, content_type__model="individual").count() == 25
    assert "the database was busy" in caplog.text


def test_a_chunk_locked_past_its_retries_fails_the_import_and_undoes_it(editor, settings, tmp_path, monkeypatch):
    settings.IMPORT_CHUNK_ROWS, settings.IMPORT_CHUNK_BUSY_PAUSE_SECONDS, settings.IMPORT_CHUNK_BUSY_RETRIES = 10, 0, 2
    calls, save_chunk = [], IndividualResource.save_chunk

    def locked_from_the_second_chunk(self, **kwargs):
        calls.append(1)
        if len(calls) >= 2:
            raise OperationalError("database is locked")
        return save_chunk(self, **kwargs)

    monkeypatch.setattr(IndividualResource, "save_chunk", locked_from_the_second_chunk)
    with pytest.raises(OperationalError):
        _run(editor, "individuals", people(25), tmp_path)
    assert len(calls) == 1 + 3  # the first chunk, then the second tried three times
    assert not Individual.objects.exists()  # the first chunk undone


def test_a_failure_half_way_undoes_every_chunk_written(editor, settings, tmp_path, monkeypatch):
    settings.IMPORT_CHUNK_ROWS = 10
    kept = [IndividualFactory(first_name="Kept", last_name=f"K{i}", ssn=_ssn(i), custom_fields={"tier": "Gold"}) for i in range(3)]
    before = {p.pk: (p.first_name, p.ssn_hash, p.custom_fields, p.updated_at) for p in Individual.objects.all()}
    calls, save_chunk = [], IndividualResource.save_chunk

    def third_chunk_breaks(self, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("the disk is full")
        return save_chunk(self, **kwargs)

    monkeypatch.setattr(IndividualResource, "save_chunk", third_chunk_breaks)
    content = _csv([["Changed", f"L{i}", "active", "TX", "", _ssn(i), "D7654321", "Silver"] for i in range(25)])  # 3 existing, 22 new
    with pytest.raises(ImportUndone, match="the disk is full"):
        _run(editor, "individuals", content, tmp_path)
    assert {p.pk: (p.first_name, p.ssn_hash, p.custom_fields, p.updated_at) for p in Individual.objects.all()} == before
    assert all(not p.drivers_license_hash for p in Individual.objects.filter(pk__in=[k.pk for k in kept]))
    undone = AuditLog.objects.get(action=AuditLog.Action.IMPORT, summary__contains="undone")
    assert undone.data == {"removed": 17, "restored": 3}


def test_a_dry_run_writes_and_locks_nothing(editor, settings, tmp_path):
    settings.IMPORT_CHUNK_ROWS = 10
    with CaptureQueriesContext(connection) as queries:
        report = _run(editor, "individuals", people(25), tmp_path, dry_run=True)
    assert report.totals == {"new": 25} and not report.written
    assert [q["sql"] for q in queries.captured_queries if not q["sql"].startswith("SELECT")] == []
    assert not Individual.objects.exists()


def test_the_import_job_shows_rows_done_rows_total_and_rows_per_second(api_as, editor, settings, tmp_path, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from core.models import ImportJob

    settings.IMPORT_JOB_THRESHOLD_BYTES, settings.MEDIA_ROOT, settings.IMPORT_CHUNK_ROWS = 500, tmp_path, 10
    client = api_as(editor)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post("/api/individuals/import/", {"file": SimpleUploadedFile("p.csv", people(25)), "dry_run": "false"}, format="multipart")
    assert response.status_code == 202
    job_id = response.json()["job"]
    url = f"/api/import-jobs/{job_id}/"
    started = timezone.now() - timedelta(seconds=300)  # long ago enough that a slow test run changes rows/s little
    ImportJob.objects.filter(pk=job_id).update(status=ImportJob.Status.RUNNING, rows=1200, started_at=started)
    checking = client.get(url).json()
    assert (checking["phase"], checking["rows_done"], checking["rows_total"], checking["rows_per_second"]) == (
        "checking",
        1200,
        None,
        pytest.approx(4.0, abs=0.3),
    )
    ImportJob.objects.filter(pk=job_id).update(rows=3000, rows_written=1500)
    writing = client.get(url).json()
    assert (writing["phase"], writing["rows_done"], writing["rows_total"], writing["rows_per_second"]) == (
        "writing",
        1500,
        3000,
        pytest.approx(15.0, abs=0.3),
    )

    from core.importing.jobs import import_job_run

    ImportJob.objects.filter(pk=job_id).update(status=ImportJob.Status.QUEUED, rows=0, rows_written=0, started_at=None)
    import_job_run(job_id=job_id)
    done = client.get(url).json()
    assert (done["status"], done["phase"], done["rows_done"], done["rows_total"]) == ("succeeded", "done", 25, 25)
    assert done["rows_per_second"] is None or done["rows_per_second"] > 0
    assert Individual.objects.count() == 25
