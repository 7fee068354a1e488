"""Import/export of individuals and policies: dry run, per-row report, all or nothing, XLSX, personal data."""

import csv
import io

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import AuditLog
from accounts.rights import Level
from individuals import personal_data
from individuals.models import Individual, Policy
from individuals.services import individuals_export_file, individuals_import

from .factories import CarrierFactory, CustomFieldFactory, IndividualFactory, PolicyFactory

pytestmark = pytest.mark.django_db
SSN = "123-45-6789"
HEADER = ["first_name", "last_name", "record_status", "state", "date_of_birth", "ssn", "drivers_license"]


def _csv(rows: list[list], header=HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


@pytest.fixture
def editor(make_user):
    return make_user(individuals=Level.EDIT, policies=Level.EDIT)


def test_dry_run_reports_and_writes_nothing(editor):
    content = _csv([["Ann", "Lee", "active", "TX", "1950-01-02", SSN, "D1234567"]])
    report = individuals_import(actor=editor, kind="individuals", content=content, dry_run=True)
    assert report.row_errors == [] and report.totals == {"new": 1} and not report.written
    assert not Individual.objects.exists()
    assert not AuditLog.objects.filter(action=AuditLog.Action.IMPORT).exists()


def test_import_encrypts_personal_data_given_in_clear(editor):
    content = _csv([["Ann", "Lee", "active", "TX", "1950-01-02", SSN, "d1234567"]])
    report = individuals_import(actor=editor, kind="individuals", content=content, dry_run=False)
    assert report.written and report.totals == {"new": 1}
    person = Individual.objects.get()
    assert person.ssn_last4 == "6789" and person.ssn_hash == personal_data.hash_value("ssn", SSN)
    assert SSN not in person.ssn_encrypted and "123456789" not in person.ssn_encrypted
    assert personal_data.reveal(person, "ssn") == "123456789"
    assert personal_data.reveal(person, "drivers_license") == "D1234567"
    assert AuditLog.objects.filter(action=AuditLog.Action.IMPORT).count() == 1
    assert AuditLog.objects.filter(action=AuditLog.Action.CREATE, content_type__model="individual").count() == 1
    # Nothing in clear in the audit log either.
    assert not [e for e in AuditLog.objects.all() if "123456789" in str(e.data) or SSN in str(e.data)]


def test_one_bad_row_rolls_back_every_row_and_is_reported_by_row_and_field(editor):
    content = _csv(
        [
            ["Ann", "Lee", "active", "TX", "1950-01-02", SSN, ""],
            ["Bob", "Ray", "zombie", "ZZ", "1950-02-30", "12-34", ""],
            ["Cy", "Wu", "active", "FL", "", "", ""],
        ]
    )
    report = individuals_import(actor=editor, kind="individuals", content=content, dry_run=False)
    assert not report.written
    assert [r["row"] for r in report.row_errors] == [2]
    assert {"record_status", "state", "date_of_birth", "ssn"} <= set(report.row_errors[0]["errors"])
    assert not Individual.objects.exists()
    assert not AuditLog.objects.filter(content_type__model="individual").exists()


def test_update_by_id_and_by_ssn_natural_key(editor):
    by_id = IndividualFactory(first_name="Old", last_name="Name")
    by_ssn = IndividualFactory(first_name="Sam", last_name="Smith", ssn=SSN)
    content = _csv(
        [[by_id.pk, "New", "Name", "active", "TX", "", "", ""], ["", "Samuel", "Smith", "active", "TX", "", SSN, ""]], header=["id", *HEADER]
    )
    report = individuals_import(actor=editor, kind="individuals", content=content, dry_run=False)
    assert report.row_errors == [] and report.totals == {"update": 2}
    by_id.refresh_from_db()
    by_ssn.refresh_from_db()
    assert by_id.first_name == "New" and by_ssn.first_name == "Samuel"
    assert Individual.objects.count() == 2


def test_unknown_id_is_a_row_error(editor):
    content = _csv([[999999, "Ann", "Lee", "active", "TX", "", "", ""]], header=["id", *HEADER])
    report = individuals_import(actor=editor, kind="individuals", content=content, dry_run=True)
    assert report.row_errors[0]["row"] == 1 and "id" in report.row_errors[0]["errors"]


def test_custom_field_values_are_validated_per_row(editor):
    CustomFieldFactory(key="client_tier", field_type="dropdown", options=["Gold", "Silver"])
    CustomFieldFactory(key="household_income", field_type="currency")
    header = ["first_name", "last_name", "cf_client_tier", "cf_household_income"]
    bad = _csv([["Ann", "Lee", "Gold", "52000.5"], ["Bob", "Ray", "Platinum", "lots"]], header=header)
    report = individuals_import(actor=editor, kind="individuals", content=bad, dry_run=True)
    assert [r["row"] for r in report.row_errors] == [2]
    assert set(report.row_errors[0]["errors"]) == {"cf_client_tier", "cf_household_income"}
    good = _csv([["Ann", "Lee", "Gold", "52000.5"]], header=header)
    assert individuals_import(actor=editor, kind="individuals", content=good, dry_run=False).written
    assert Individual.objects.get().custom_fields == {"client_tier": "Gold", "household_income": 52000.5}


def test_xlsx_round_trip_keeps_data_and_masked_personal_data_unchanged(editor):
    CustomFieldFactory(key="preferred_contact", field_type="checkbox_list", options=["Phone", "Email", "Mail"])
    person = IndividualFactory(first_name="Ann", zip_code="02134", ssn=SSN, custom_fields={"preferred_contact": ["Phone", "Mail"]})
    exported = individuals_export_file(actor=editor, kind="individuals", file_format="xlsx")
    sheet = tablib.Dataset().load(exported, format="xlsx")
    row = dict(zip(sheet.headers, sheet[0], strict=True))
    assert row["ssn"] == "***-**-6789" and row["zip_code"] == "02134"

    # Edit the first name in the sheet and import it back.
    sheet[0] = tuple("Annie" if h == "first_name" else v for h, v in zip(sheet.headers, sheet[0], strict=True))
    report = individuals_import(actor=editor, kind="individuals", content=sheet.export("xlsx"), file_format="xlsx", dry_run=False)

    assert report.row_errors == [] and report.totals == {"update": 1}
    person.refresh_from_db()
    assert person.first_name == "Annie" and person.zip_code == "02134"
    assert personal_data.reveal(person, "ssn") == "123456789"  # the masked cell left it unchanged
    assert person.custom_fields == {"preferred_contact": ["Phone", "Mail"]}
    assert Individual.objects.count() == 1


def test_policies_by_carrier_code_and_policy_number(editor):
    carrier = CarrierFactory(code="humana")
    person = IndividualFactory()
    existing = PolicyFactory(individual=person, carrier=carrier, policy_number="H-1", status="pending")
    header = ["carrier_code", "policy_number", "individual_id", "coverage_type", "status", "effective_date", "premium"]
    content = _csv(
        [
            ["humana", "H-1", person.pk, "medicare_advantage", "active", "2026-01-01", "0"],
            ["humana", "H-2", person.pk, "dental", "active", "2026-01-01", "35.10"],
        ],
        header=header,
    )
    report = individuals_import(actor=editor, kind="policies", content=content, dry_run=False)
    assert report.row_errors == [] and report.totals == {"update": 1, "new": 1}
    existing.refresh_from_db()
    assert existing.status == "active"
    assert Policy.objects.filter(carrier=carrier, policy_number="H-2", individual=person).exists()


def test_policy_rows_with_unknown_carrier_or_missing_number_roll_back(editor):
    CarrierFactory(code="humana")
    person = IndividualFactory()
    header = ["carrier_code", "policy_number", "individual_id", "coverage_type", "status"]
    content = _csv(
        [
            ["humana", "H-9", person.pk, "dental", "active"],
            ["nope", "", person.pk, "dental", "active"],
            ["humana", "H-10", person.pk, "timeshare", "active"],
        ],
        header=header,
    )
    report = individuals_import(actor=editor, kind="policies", content=content, dry_run=False)
    assert [r["row"] for r in report.row_errors] == [2, 3]
    assert set(report.row_errors[0]["errors"]) == {"carrier_code", "policy_number"}
    assert "coverage_type" in report.row_errors[1]["errors"]
    assert not Policy.objects.exists()


def test_policies_csv_round_trip(editor):
    policy = PolicyFactory(policy_number="P-7", premium="12.50")
    exported = individuals_export_file(actor=editor, kind="policies", file_format="csv")
    report = individuals_import(actor=editor, kind="policies", content=exported, dry_run=False)
    assert report.row_errors == [] and report.totals == {"update": 1}
    assert Policy.objects.get().pk == policy.pk


def test_api_import_dry_run_then_import(editor, api_as):
    client = api_as(editor)
    upload = lambda: SimpleUploadedFile("people.csv", _csv([["Ann", "Lee", "active", "TX", "", SSN, ""]]))  # noqa: E731
    dry = client.post("/api/individuals/import/", {"file": upload()}, format="multipart")
    assert dry.status_code == 200 and dry.json()["dry_run"] and not dry.json()["written"]
    assert not Individual.objects.exists()
    done = client.post("/api/individuals/import/", {"file": upload(), "dry_run": "false"}, format="multipart")
    assert done.status_code == 200 and done.json()["written"] and done.json()["totals"] == {"new": 1}
    assert Individual.objects.get().ssn_last4 == "6789"


def test_api_import_reports_row_errors_as_400(editor, api_as):
    content = _csv([["Ann", "Lee", "active", "TX", "", "", ""], ["", "", "active", "TX", "", "", ""]])
    response = api_as(editor).post("/api/individuals/import/", {"file": SimpleUploadedFile("p.csv", content), "dry_run": "false"}, format="multipart")
    assert response.status_code == 400
    body = response.json()
    assert body["row_errors"][0]["row"] == 2 and {"first_name", "last_name"} <= set(body["row_errors"][0]["errors"])
    assert not Individual.objects.exists()


def test_api_import_needs_add_and_change_rights(make_user, api_as):
    viewer = make_user(individuals=Level.VISIBLE)
    response = api_as(viewer).post("/api/individuals/import/", {"file": SimpleUploadedFile("p.csv", _csv([]))}, format="multipart")
    assert response.status_code == 403
    garbage = api_as(make_user(individuals=Level.EDIT)).post(
        "/api/individuals/import/", {"file": SimpleUploadedFile("p.xlsx", b"not a workbook")}, format="multipart"
    )
    assert garbage.status_code == 400 and "file" in garbage.json()


def test_admin_import_and_export_buttons(client, editor):
    IndividualFactory(ssn=SSN)
    client.force_login(editor)
    page = client.get(reverse("admin:individuals_individual_changelist")).content.decode()
    assert reverse("admin:individuals_individual_import") in page
    assert reverse("admin:individuals_individual_export") in page
    upload = SimpleUploadedFile("people.csv", _csv([["Ann", "Lee", "active", "TX", "", "", ""], ["Bob", "Ray", "zombie", "TX", "", "", ""]]))
    response = client.post(reverse("admin:individuals_individual_import"), {"import_file": upload, "format": "0", "resource": "0"})
    assert response.status_code == 200
    assert "zombie" in response.content.decode()  # the row's error is shown; nothing to confirm
    assert Individual.objects.count() == 1


def test_search_csv_export_imports_back_unchanged(editor, api_as):
    CustomFieldFactory(key="newsletter", field_type="checkbox")
    person = IndividualFactory(first_name="Ann", ssn=SSN, custom_fields={"newsletter": True})
    response = api_as(editor).get("/api/individuals/export/")
    content = b"".join(response.streaming_content)
    report = individuals_import(actor=editor, kind="individuals", content=content, dry_run=False)
    assert report.row_errors == [] and report.totals == {"update": 1}
    person.refresh_from_db()
    assert person.custom_fields == {"newsletter": True} and personal_data.reveal(person, "ssn") == "123456789"


def test_admin_export_through_import_export_is_masked_and_audited(client, editor):
    IndividualFactory(ssn=SSN, state="TX")
    IndividualFactory(state="FL")
    client.force_login(editor)
    url = reverse("admin:individuals_individual_export") + "?state=TX"
    assert client.get(url).status_code == 200
    from individuals.resources import IndividualResource

    chosen = {f"individualresource_{name}": "on" for name in IndividualResource().get_export_order()}
    response = client.post(url, {"format": "0", "resource": "0", **chosen})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 1 and rows[0]["ssn"] == "***-**-6789"
    assert AuditLog.objects.filter(action=AuditLog.Action.EXPORT, actor=editor).count() == 1


def test_servicing_agent_by_npn_and_kept_when_it_has_none(editor):
    from tests.accounts.factories import AgentFactory

    with_npn = AgentFactory(npn="1234567")
    without_npn = AgentFactory(first_name="Nora", last_name="Nonpn")
    kept = IndividualFactory(servicing_agent=without_npn)
    exported = individuals_export_file(actor=editor, kind="individuals", file_format="csv")
    assert individuals_import(actor=editor, kind="individuals", content=exported, dry_run=False).row_errors == []
    kept.refresh_from_db()
    assert kept.servicing_agent == without_npn  # the round trip keeps an agent that has no NPN

    header = ["id", "first_name", "last_name", "servicing_agent_npn"]
    content = _csv([[kept.pk, "A", "B", "1234567"]], header=header)
    assert individuals_import(actor=editor, kind="individuals", content=content, dry_run=False).written
    kept.refresh_from_db()
    assert kept.servicing_agent == with_npn
    unknown = _csv([[kept.pk, "A", "B", "999"]], header=header)
    report = individuals_import(actor=editor, kind="individuals", content=unknown, dry_run=True)
    assert "servicing_agent_npn" in report.row_errors[0]["errors"]


def test_admin_import_dry_run_then_confirm_writes_the_rows(client, editor):
    import re

    client.force_login(editor)
    upload = SimpleUploadedFile("people.csv", _csv([["Ann", "Lee", "active", "TX", "", SSN, ""]]))
    preview = client.post(reverse("admin:individuals_individual_import"), {"import_file": upload, "format": "0", "resource": "0"})
    assert preview.status_code == 200 and not Individual.objects.exists()  # the preview is a dry run
    html = preview.content.decode()
    confirm = {
        name: value
        for name, value in re.findall(r'name="(\w+)" value="([^"]*)"', html)
        if name in ("import_file_name", "original_file_name", "format", "resource")
    }
    assert "import_file_name" in confirm, "no confirm form: the dry run found errors"
    done = client.post(reverse("admin:individuals_individual_process_import"), confirm)
    assert done.status_code == 302
    assert Individual.objects.get().ssn_last4 == "6789"
    assert AuditLog.objects.filter(action=AuditLog.Action.IMPORT, actor=editor).count() == 1


def test_a_checkbox_list_cell_nested_thousands_deep_is_a_row_error(editor):
    CustomFieldFactory(key="preferred_contact", field_type="checkbox_list", options=["Phone", "Email"])
    header = ["first_name", "last_name", "cf_preferred_contact"]
    deep = _csv([["Ann", "Lee", "[" * 5000 + "]" * 5000]], header=header)
    report = individuals_import(actor=editor, kind="individuals", content=deep, dry_run=True)
    assert [r["row"] for r in report.row_errors] == [1] and "cf_preferred_contact" in report.row_errors[0]["errors"]
    assert not Individual.objects.exists()
