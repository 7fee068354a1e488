"""Census import (CSV/XLSX): row errors, all or nothing, changes to synced employees queued."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import AuditLog
from hrsync.models import Employee
from hrsync.services import employee_census_import

from .factories import BenefitsLevelFactory, EmployeeFactory, EmployerGroupFactory

pytestmark = pytest.mark.django_db
HEADER = (
    "employer_group,first_name,last_name,email,date_of_birth,gender,hire_date,leave_date,annual_pay,pay_frequency,"
    "benefits_level,create_benefits_record\n"
)


@pytest.fixture
def setup():
    return EmployerGroupFactory(account_number="CEN-1"), BenefitsLevelFactory(name="Basic", package_code="BASIC")


def csv(text: str) -> str:
    return HEADER + text


def test_imports_a_census(setup, agency_admin):
    result = employee_census_import(
        actor=agency_admin,
        content=csv(
            "CEN-1,Ann,One,ANN@census.example,1980-01-01,F,2020-01-01,,50000,monthly,Basic,\n"
            "CEN-1,Bob,Two,bob@census.example,1981-02-02,M,2021-01-01,,60000,biweekly,Basic,\n"
        ),
    )
    assert result.written and not result.row_errors
    assert sorted(Employee.objects.values_list("email", flat=True)) == ["ann@census.example", "bob@census.example"]
    assert set(Employee.objects.values_list("sync_state", flat=True)) == {"not_syncing"}
    census = AuditLog.objects.get(action=AuditLog.Action.IMPORT)
    assert census.actor == agency_admin and census.data["totals"] == {"new": 2}


def test_the_admin_import_is_audited_once_when_written(setup, agency_admin, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(agency_admin)
    content = (HEADER + "CEN-1,Ann,One,ann@census.example,1980-01-01,F,2020-01-01,,50000,monthly,Basic,\n").encode()
    preview = client.post(
        "/admin/hrsync/employee/import/", {"format": "0", "resource": "0", "import_file": SimpleUploadedFile("census.csv", content)}
    )
    assert preview.status_code == 200 and not AuditLog.objects.filter(action=AuditLog.Action.IMPORT).exists()  # dry run
    confirm = preview.context["confirm_form"]
    reply = client.post("/admin/hrsync/employee/process_import/", {**confirm.initial, "resource": "0"})
    assert reply.status_code == 302
    assert Employee.objects.get().email == "ann@census.example"
    assert AuditLog.objects.filter(action=AuditLog.Action.IMPORT, actor=agency_admin).count() == 1


def test_one_bad_row_writes_nothing_and_says_which(setup, agency_admin):
    result = employee_census_import(
        actor=agency_admin,
        content=csv(
            "CEN-1,Ann,One,ann@census.example,1980-01-01,F,2020-01-01,,50000,monthly,Basic,\n"
            "CEN-1,Bob,Two,not-an-email,1981-02-02,M,2021-01-01,,60000,fortnightly,Basic,\n"
        ),
    )
    assert not result.written
    assert [r["row"] for r in result.row_errors] == [2]
    assert {"email", "pay_frequency"} <= set(result.row_errors[0]["errors"])
    assert not Employee.objects.exists()


def test_a_bad_row_in_a_later_chunk_undoes_the_chunks_before_it(setup, agency_admin, settings, django_capture_on_commit_callbacks):
    settings.IMPORT_CHUNK_ROWS = 2  # rows 1-2 are written in bulk before row 5 is read
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = employee_census_import(
            actor=agency_admin,
            content=csv(
                "CEN-1,Ann,One,ann@census.example,1980-01-01,F,2020-01-01,,50000,monthly,Basic,yes\n"
                "CEN-1,Bob,Two,bob@census.example,1981-02-02,M,2021-01-01,,60000,biweekly,Basic,yes\n"
                "CEN-1,Cy,Three,cy@census.example,1982-03-03,M,2021-01-01,,60000,biweekly,Basic,\n"
                "CEN-1,Di,Four,di@census.example,1983-04-04,F,2021-01-01,,60000,biweekly,Basic,\n"
                "CEN-1,Ed,Five,ed@census.example,not-a-date,M,2021-01-01,,60000,biweekly,Basic,\n"
            ),
        )
    assert not result.written and [r["row"] for r in result.row_errors] == [5]
    assert not Employee.objects.exists() and not callbacks  # nothing kept, no sync requested
    assert not AuditLog.objects.exclude(action=AuditLog.Action.IMPORT).exists()  # no employee's audit row


def test_an_unknown_employer_group_is_a_row_error(setup, agency_admin):
    result = employee_census_import(
        actor=agency_admin, content=csv("NOPE-9,Ann,One,ann@census.example,1980-01-01,F,2020-01-01,,50000,monthly,Basic,\n")
    )
    assert not result.written and result.row_errors[0]["row"] == 1
    assert not Employee.objects.exists()


def test_reimport_updates_and_queues_synced_employees(setup, agency_admin, sandbox, django_capture_on_commit_callbacks):
    group, level = setup
    synced = EmployeeFactory(employer_group=group, email="ann@census.example", benefits_level=level)
    from hrsync.services import employee_sync_request

    with django_capture_on_commit_callbacks(execute=True):
        employee_sync_request(actor=agency_admin, employees=[synced.pk])
    with django_capture_on_commit_callbacks(execute=True):
        result = employee_census_import(
            actor=agency_admin,
            content=csv(
                "CEN-1,Ann,Married-Name,ann@census.example,1985-05-17,F,2020-02-03,,64000,biweekly,Basic,\n"
                "CEN-1,Cy,New,cy@census.example,1990-03-03,X,2025-01-01,,70000,monthly,Basic,yes\n"
            ),
        )
    assert result.written, result.row_errors
    synced.refresh_from_db()
    assert synced.last_name == "Married-Name" and synced.sync_attempts.count() == 2
    assert sandbox.accounts("ann@census.example")[0]["last_name"] == "Married-Name"
    assert Employee.objects.get(email="cy@census.example").sync_state == "successful"  # create_benefits_record


def test_xlsx_round_trip(setup, agency_admin):
    from hrsync.resources import EmployeeResource

    EmployeeFactory(employer_group=setup[0], email="x@census.example", benefits_level=setup[1])
    xlsx = EmployeeResource().export().export("xlsx")
    Employee.objects.all().delete()
    result = employee_census_import(actor=agency_admin, content=xlsx, file_format="xlsx")
    assert result.written, result.row_errors
    assert Employee.objects.get().email == "x@census.example"


def test_demo_data_loads_twice(agency_admin):
    from hrsync import demo

    out = io.StringIO()
    demo.load(out)
    demo.load(out)
    assert Employee.objects.count() == 12
    assert Employee.objects.filter(sync_state="failed").count() == 2
    assert Employee.objects.filter(email="maria.gonzalez@northwind.example").exists()


def test_census_import_through_the_api(setup, api, make_user, api_as):
    from accounts.rights import Level

    upload = lambda text: SimpleUploadedFile("census.csv", csv(text).encode())  # noqa: E731
    good = "CEN-1,Ann,One,ann@census.example,1980-01-01,F,2020-01-01,,50000,monthly,Basic,\n"

    dry = api.post("/api/employees/import/", {"file": upload(good)}, format="multipart")
    assert dry.status_code == 200 and dry.json()["totals"] == {"new": 1} and not Employee.objects.exists()
    bad = api.post("/api/employees/import/", {"file": upload(good + "CEN-1,Bo,Two,nope,,,,,,,Basic,\n"), "dry_run": False}, format="multipart")
    assert bad.status_code == 400 and bad.json()["row_errors"][0]["row"] == 2 and not Employee.objects.exists()
    done = api.post("/api/employees/import/", {"file": upload(good), "dry_run": False}, format="multipart")
    assert done.status_code == 200 and Employee.objects.get().email == "ann@census.example"
    viewer = api_as(make_user(benefits_sync=Level.VISIBLE))
    assert viewer.post("/api/employees/import/", {"file": upload(good)}, format="multipart").status_code == 403


PER_CHUNK = 26  # queries (savepoints included) for one chunk of a census, checked then written, whatever its rows


def rows(n: int, *, start: int = 0, flag: str = "") -> str:
    return "".join(f"CEN-1,Ann,N{i},p{i}@census.example,1980-01-01,F,2020-01-01,,50000,monthly,Basic,{flag}\n" for i in range(start, start + n))


def test_each_created_or_changed_employee_has_its_audit_row(setup, agency_admin):
    group, level = setup
    kept = EmployeeFactory(employer_group=group, email="kept@census.example", first_name="Kim", last_name="Kept", benefits_level=level)
    result = employee_census_import(
        actor=agency_admin,
        content=csv(
            f"CEN-1,Kim,Renamed,KEPT@census.example,{kept.date_of_birth},F,{kept.hire_date},,{kept.annual_pay},"
            f"{kept.pay_frequency},Basic,\n"
            "CEN-1,Ann,One,ann@census.example,1980-01-01,F,2020-01-01,,50000,monthly,Basic,\n"
        ),
    )
    assert result.written and result.totals == {"new": 1, "update": 1}
    ann = Employee.objects.get(email="ann@census.example")
    created = AuditLog.objects.get(action=AuditLog.Action.CREATE, object_id=str(ann.pk))
    assert created.actor == agency_admin and created.object_repr == "Ann One"
    changed = AuditLog.objects.get(action=AuditLog.Action.UPDATE, object_id=str(kept.pk))
    assert changed.summary == "Changed last_name" and changed.object_repr == "Kim Renamed"
    kept.refresh_from_db()
    assert kept.last_name == "Renamed" and kept.change_version == 1


def test_an_unchanged_row_is_skipped_without_audit_or_sync(setup, agency_admin, django_capture_on_commit_callbacks):
    employee_census_import(actor=agency_admin, content=csv(rows(3)))
    before = AuditLog.objects.count()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = employee_census_import(actor=agency_admin, content=csv(rows(3)))
    assert result.written and result.totals == {"skip": 3}
    assert AuditLog.objects.count() == before + 1  # the import itself
    assert not callbacks and set(Employee.objects.values_list("change_version", flat=True)) == {0}


def test_a_key_repeated_in_the_file_is_one_employee_last_row_winning(setup, agency_admin, settings):
    settings.IMPORT_CHUNK_ROWS = 2  # the repeat in the same chunk and in the next one
    result = employee_census_import(
        actor=agency_admin,
        content=csv(
            "CEN-1,Ann,One,ann@census.example,1980-01-01,F,2020-01-01,,50000,monthly,Basic,\n"
            "CEN-1,Ann,Two,Ann@Census.example,1980-01-01,F,2020-01-01,,50000,monthly,Basic,\n"
            "CEN-1,Ann,Three,ann@census.example,1980-01-01,F,2020-01-01,,50000,monthly,Basic,\n"
        ),
    )
    assert result.written, result.row_errors
    assert result.totals == {"new": 1, "update": 2}
    assert list(Employee.objects.values_list("last_name", flat=True)) == ["Three"]


def test_benefits_records_are_requested_for_the_rows_that_ask(setup, agency_admin):
    result = employee_census_import(actor=agency_admin, content=csv(rows(2) + rows(3, start=2, flag="yes")))
    assert result.written
    attempts = dict(Employee.objects.values_list("last_name", "sync_attempts__status"))
    assert attempts == {"N0": None, "N1": None, "N2": "queued", "N3": "queued", "N4": "queued"}


def _queries(text: str, *, actor, chunk_rows: int, settings) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.IMPORT_CHUNK_ROWS = chunk_rows
    with CaptureQueriesContext(connection) as queries:
        result = employee_census_import(actor=actor, content=csv(text))
    assert result.written, result.row_errors
    return len(queries)


def test_queries_per_chunk_do_not_grow_with_its_rows(setup, agency_admin, settings):
    # given: new employees, half of them asking for a benefits record (40 rows: one INSERT even on SQLite)
    asks = lambda n, start: "".join(rows(1, start=start + i, flag="yes" if i % 2 else "") for i in range(n))  # noqa: E731
    # when: 3 chunks of 10 rows, then 3 chunks of 40
    small = _queries(asks(30, 0), actor=agency_admin, chunk_rows=10, settings=settings)
    large = _queries(asks(120, 30), actor=agency_admin, chunk_rows=40, settings=settings)
    # then: the same queries; a chunk costs a fixed number of them, a row none
    assert large <= small <= 3 * PER_CHUNK + 3, (small, large)
    assert Employee.objects.count() == 150 and Employee.objects.filter(sync_state="in_progress").count() == 75


def test_queries_per_chunk_of_changes_do_not_grow_with_its_rows(setup, agency_admin, settings):
    # given: 150 employees, one of every chunk below in the sync
    employee_census_import(actor=agency_admin, content=csv(rows(150)))
    Employee.objects.filter(last_name__in=["N1", "N11", "N21", "N31", "N71", "N111"]).update(sync_state="successful")
    # when: 3 chunks of 10 changes, then 3 chunks of 40
    small = _queries(rows(30).replace(",Ann,", ",Anna,"), actor=agency_admin, chunk_rows=10, settings=settings)
    large = _queries(rows(120, start=30).replace(",Ann,", ",Anna,"), actor=agency_admin, chunk_rows=40, settings=settings)
    # then
    assert large <= small <= 3 * PER_CHUNK + 3, (small, large)
    assert Employee.objects.filter(first_name="Anna", change_version=1).count() == 150
    assert Employee.objects.filter(sync_state="in_progress").count() == 6  # the changed ones in the sync, queued
