"""Census import (CSV/XLSX): row errors, all or nothing, changes to synced employees queued."""
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import AuditLog
from hrsync.models import Employee
from hrsync.services import employee_census_import

from .factories import BenefitsLevelFactory, EmployeeFactory, EmployerGroupFactory

pytestmark = pytest.mark.django_db
HEADER = ("employer_group,first_name,last_name,email,date_of_birth,gender,hire_date,leave_date,annual_pay,pay_frequency,"
          "benefits_level,create_benefits_record\n")


@pytest.fixture
def setup():
    return EmployerGroupFactory(account_number="CEN-1"), BenefitsLevelFactory(name="Basic", package_code="BASIC")


def csv(text: str) -> str:
    return HEADER + text


def test_imports_a_census(setup, agency_admin):
    result = employee_census_import(actor=agency_admin, content=csv(
        "CEN-1,Ann,One,ANN@census.example,1980-01-01,F,2020-01-01,,50000,monthly,Basic,\n"
        "CEN-1,Bob,Two,bob@census.example,1981-02-02,M,2021-01-01,,60000,biweekly,Basic,\n"))
    assert result.written and not result.row_errors
    assert sorted(Employee.objects.values_list("email", flat=True)) == ["ann@census.example", "bob@census.example"]
    assert set(Employee.objects.values_list("sync_state", flat=True)) == {"not_syncing"}
    census = AuditLog.objects.get(action=AuditLog.Action.IMPORT)
    assert census.actor == agency_admin and census.data["totals"] == {"new": 2}


def test_the_admin_import_is_audited_once_when_written(setup, agency_admin, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(agency_admin)
    content = (HEADER + "CEN-1,Ann,One,ann@census.example,1980-01-01,F,2020-01-01,,50000,monthly,Basic,\n").encode()
    preview = client.post("/admin/hrsync/employee/import/", {
        "format": "0", "resource": "0", "import_file": SimpleUploadedFile("census.csv", content)})
    assert preview.status_code == 200 and not AuditLog.objects.filter(action=AuditLog.Action.IMPORT).exists()  # dry run
    confirm = preview.context["confirm_form"]
    reply = client.post("/admin/hrsync/employee/process_import/", {**confirm.initial, "resource": "0"})
    assert reply.status_code == 302
    assert Employee.objects.get().email == "ann@census.example"
    assert AuditLog.objects.filter(action=AuditLog.Action.IMPORT, actor=agency_admin).count() == 1


def test_one_bad_row_writes_nothing_and_says_which(setup, agency_admin):
    result = employee_census_import(actor=agency_admin, content=csv(
        "CEN-1,Ann,One,ann@census.example,1980-01-01,F,2020-01-01,,50000,monthly,Basic,\n"
        "CEN-1,Bob,Two,not-an-email,1981-02-02,M,2021-01-01,,60000,fortnightly,Basic,\n"))
    assert not result.written
    assert [r["row"] for r in result.row_errors] == [2]
    assert {"email", "pay_frequency"} <= set(result.row_errors[0]["errors"])
    assert not Employee.objects.exists()


def test_an_unknown_employer_group_is_a_row_error(setup, agency_admin):
    result = employee_census_import(actor=agency_admin, content=csv(
        "NOPE-9,Ann,One,ann@census.example,1980-01-01,F,2020-01-01,,50000,monthly,Basic,\n"))
    assert not result.written and result.row_errors[0]["row"] == 1
    assert not Employee.objects.exists()


def test_reimport_updates_and_queues_synced_employees(setup, agency_admin, sandbox, django_capture_on_commit_callbacks):
    group, level = setup
    synced = EmployeeFactory(employer_group=group, email="ann@census.example", benefits_level=level)
    from hrsync.services import employee_sync_request

    with django_capture_on_commit_callbacks(execute=True):
        employee_sync_request(actor=agency_admin, employees=[synced.pk])
    with django_capture_on_commit_callbacks(execute=True):
        result = employee_census_import(actor=agency_admin, content=csv(
            "CEN-1,Ann,Married-Name,ann@census.example,1985-05-17,F,2020-02-03,,64000,biweekly,Basic,\n"
            "CEN-1,Cy,New,cy@census.example,1990-03-03,X,2025-01-01,,70000,monthly,Basic,yes\n"))
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
    bad = api.post("/api/employees/import/", {"file": upload(good + "CEN-1,Bo,Two,nope,,,,,,,Basic,\n"),
                                              "dry_run": False}, format="multipart")
    assert bad.status_code == 400 and bad.json()["row_errors"][0]["row"] == 2 and not Employee.objects.exists()
    done = api.post("/api/employees/import/", {"file": upload(good), "dry_run": False}, format="multipart")
    assert done.status_code == 200 and Employee.objects.get().email == "ann@census.example"
    viewer = api_as(make_user(benefits_sync=Level.VISIBLE))
    assert viewer.post("/api/employees/import/", {"file": upload(good)}, format="multipart").status_code == 403
