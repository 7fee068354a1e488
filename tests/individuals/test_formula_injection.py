"""Spreadsheet formula injection (OWASP): no CSV or XLSX we write starts a cell with =, +, -, @, tab or CR.

One rule (``core.formulas``) in every export path, tested per path; an exported file imports back unchanged.
"""

import csv
import io

import openpyxl
import pytest
from django.db import connection
from django.urls import reverse

from accounts.rights import Flag, Level
from core.formulas import formula_safe, formula_unescape
from individuals.models import CustomField, ExportJob, Individual
from individuals.resources import IndividualResource, PolicyResource
from individuals.services import exports

from .factories import CustomFieldFactory, IndividualFactory, PolicyFactory

pytestmark = pytest.mark.django_db
SSN = "123-45-6789"
PAYLOADS = {
    "first_name": "=1+2",
    "last_name": "@SUM(A1)",
    "city": "-2+3",
    "cell_phone": "+1 555 0100",
    "address_line1": "\tpadded",
    "nickname": "\rcmd",
}
SAFE = {k: "'" + v for k, v in PAYLOADS.items()}


@pytest.fixture
def person():
    CustomFieldFactory(key="note", field_type=CustomField.FieldType.TEXT)
    return IndividualFactory(**PAYLOADS, email="ann@example.com", ssn=SSN, custom_fields={"note": '=HYPERLINK("http://x")'})


def _rows(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode(), newline="")))


def _assert_safe(row: dict):
    assert {k: row[k] for k in PAYLOADS} == SAFE
    assert row["cf_note"] == '\'=HYPERLINK("http://x")'
    assert not any(str(v).startswith(("=", "+", "-", "@", "\t", "\r")) for v in row.values() if v)


def test_the_rule():
    assert [formula_safe(v) for v in ["=A1", "+1", "-1", "@x", "\tx", "\rx", "a=b", "", 5, None]] == [
        "'=A1",
        "'+1",
        "'-1",
        "'@x",
        "'\tx",
        "'\rx",
        "a=b",
        "",
        5,
        None,
    ]
    assert formula_unescape("'=A1") == "=A1" and formula_unescape("'quoted") == "'quoted"


def test_api_streamed_csv(person, make_user, api_as):
    response = api_as(make_user(individuals=Level.VISIBLE)).get("/api/individuals/export/")
    _assert_safe(_rows(b"".join(response.streaming_content))[0])


def test_api_csv_with_full_personal_data(person, make_user, api_as):
    user = make_user(individuals=Level.VISIBLE, flags={Flag.VIEW_FULL_PERSONAL_DATA})
    response = api_as(user).post("/api/individuals/export/", {"criteria": {}, "reveal": ["all"]}, format="json")
    assert response.status_code == 200, response.content
    row = _rows(b"".join(response.streaming_content))[0]
    _assert_safe(row)
    assert row["ssn"] == SSN


def test_admin_csv_export(person, make_user, client):
    client.force_login(make_user(individuals=Level.VISIBLE))
    response = client.get(reverse("admin:individuals_individual_export_csv"))
    _assert_safe(_rows(b"".join(response.streaming_content))[0])


def test_background_export_file(person, make_user, settings, api_as):
    settings.MEDIA_ROOT = settings.VAR_DIR / "test-media"
    user = make_user(individuals=Level.VISIBLE)
    job = exports.export_job_run(job_id=ExportJob.objects.create(owner=user, criteria={}).pk)
    response = api_as(user).get(f"/api/individuals/export/jobs/{job.pk}/download/")
    _assert_safe(_rows(b"".join(response.streaming_content))[0])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the COPY path is PostgreSQL's")
def test_postgresql_copy_path(person):
    _assert_safe(_rows(b"".join(exports.export_csv_blocks(Individual.objects.all(), use_copy=True)))[0])


def test_import_export_csv_and_xlsx(person):
    PolicyFactory(individual=person, policy_number="=cmd|' /C calc'!A0")
    dataset = IndividualResource().export(Individual.objects.all())
    _assert_safe(_rows(dataset.csv.encode())[0])
    sheet = openpyxl.load_workbook(io.BytesIO(dataset.xlsx)).active
    headers = [c.value for c in sheet[1]]
    cells = dict(zip(headers, sheet[2], strict=True))
    assert cells["first_name"].value == "'=1+2" and cells["first_name"].data_type == "s"
    assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)
    policies = PolicyResource().export(person.policies.all())
    assert _rows(policies.csv.encode())[0]["policy_number"] == "'=cmd|' /C calc'!A0"


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_an_exported_file_imports_back_unchanged(person, file_format):
    from individuals.services import individuals_export_file, individuals_import

    content = individuals_export_file(actor=None, kind="individuals", file_format=file_format)
    report = individuals_import(actor=None, kind="individuals", content=content, file_format=file_format, dry_run=False)
    assert not report.row_errors, report.row_errors
    person.refresh_from_db()
    assert {k: getattr(person, k) for k in PAYLOADS} == PAYLOADS
