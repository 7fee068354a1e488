import pytest

from accounts.models import AuditLog
from plans.models import EmployerGroup, Plan, PlanRate
from plans.services import plans_export, plans_import
from tests.plans.factories import CarrierFactory, EmployerGroupFactory, PlanFactory

pytestmark = pytest.mark.django_db

GROUPS_CSV = """account_number,name,account_type,status,renewal_month,employee_count
EG-100,Harbor Dental Group,group,active,1,35
EG-101,Summit Roofing,group,active,7,120
"""

PLAN_HEADER = (
    "group_account_number,carrier_code,line_of_coverage,name,plan_type,effective_date,renewal_date,"
    "rate_basis,benefit_summary,rate_employee,rate_employee_spouse,rate_employee_children,rate_family,"
    "age_bands\n"
)


def test_group_import_dry_run_then_import(agency_admin):
    dry = plans_import(actor=agency_admin, kind="employer_groups", content=GROUPS_CSV, dry_run=True)
    assert dry.totals == {"new": 2} and not dry.row_errors and not dry.written
    assert not EmployerGroup.objects.exists()

    done = plans_import(actor=agency_admin, kind="employer_groups", content=GROUPS_CSV, dry_run=False)
    assert done.written and EmployerGroup.objects.count() == 2
    assert AuditLog.objects.filter(action="import").count() == 1


def test_one_bad_row_rolls_the_whole_plan_import_back(agency_admin):
    group, carrier = EmployerGroupFactory(account_number="EG-7"), CarrierFactory(code="acme-life")
    csv = PLAN_HEADER + (
        'EG-7,acme-life,medical,Gold PPO,ppo,2026-01-01,2027-01-01,tiered,"{""coinsurance"": 20}",500,1000,900,1400,\n'
        "EG-7,acme-life,life,Basic Life,term,2026-01-01,2027-01-01,age_banded,,,,,,18-39: 8.50; 40-: 14\n"
        "EG-7,acme-life,dental,Dental PPO,ppo,2026-01-01,2025-01-01,tiered,,40,80,75,-120,\n"
        "EG-7,acme-life,vision,Vision,,2026-01-01,2027-01-01,tiered,,9,18,,27,\n"
    )
    report = plans_import(actor=agency_admin, kind="plans", content=csv, dry_run=False)

    assert not report.written
    errors = {r["row"]: r["errors"] for r in report.row_errors}
    assert set(errors) == {3, 4}
    assert "renewal_date" in errors[3] and any("negative" in m for m in errors[3]["rates"])
    assert any("Employee + children" in m for m in errors[4]["rates"])
    assert not Plan.objects.exists() and not PlanRate.objects.exists()
    assert group.plans.count() == 0 and carrier.plans.count() == 0


def test_plan_import_writes_plans_with_rates_and_updates_by_natural_key(agency_admin):
    EmployerGroupFactory(account_number="EG-8")
    CarrierFactory(code="acme-health")
    row = 'EG-8,acme-health,medical,Gold PPO,ppo,2026-01-01,2027-01-01,tiered,"{{""coinsurance"": 20}}",{},1000,900,1400,\n'
    assert plans_import(actor=agency_admin, kind="plans", content=PLAN_HEADER + row.format(500), dry_run=False).written
    plan = Plan.objects.get()
    assert plan.rates.get(tier="employee").monthly_rate == 500 and plan.benefit_summary == {"coinsurance": 20}

    again = plans_import(actor=agency_admin, kind="plans", content=PLAN_HEADER + row.format(525), dry_run=False)
    assert again.written and again.totals == {"update": 1}
    plan.refresh_from_db()
    assert Plan.objects.count() == 1 and plan.version == 2
    assert plan.rates.get(tier="employee").monthly_rate == 525


def test_export_round_trips_through_import_in_csv_and_xlsx(agency_admin):
    plan = PlanFactory()
    for file_format in ("csv", "xlsx"):
        content = plans_export(kind="plans", file_format=file_format)
        report = plans_import(actor=agency_admin, kind="plans", content=content, file_format=file_format, dry_run=True)
        assert not report.row_errors, report.row_errors
    assert b"1485.96" in plans_export(kind="plans") and plan.name.encode() in plans_export(kind="plans")


def test_group_import_through_the_api(api, make_user, api_as):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accounts.rights import Level

    def upload(text):
        return SimpleUploadedFile("groups.csv", text.encode())

    dry = api.post("/api/employer-groups/import/", {"file": upload(GROUPS_CSV)}, format="multipart")
    assert dry.status_code == 200 and dry.json()["totals"] == {"new": 2} and not EmployerGroup.objects.exists()
    bad = api.post("/api/employer-groups/import/", {"file": upload(GROUPS_CSV + "EG-102,,group,active,13,5\n"), "dry_run": False}, format="multipart")
    assert bad.status_code == 400 and [r["row"] for r in bad.json()["row_errors"]] == [3]
    assert not EmployerGroup.objects.exists()
    done = api.post("/api/employer-groups/import/", {"file": upload(GROUPS_CSV), "dry_run": False}, format="multipart")
    assert done.status_code == 200 and EmployerGroup.objects.count() == 2
    viewer = api_as(make_user(plans=Level.VISIBLE))
    assert viewer.post("/api/employer-groups/import/", {"file": upload(GROUPS_CSV)}, format="multipart").status_code == 403
    unreadable = api.post("/api/plans/import/", {"file": upload("x"), "file_format": "xlsx"}, format="multipart")
    assert unreadable.status_code == 400 and "file" in unreadable.json()


# --- set-based: a chunk's queries do not grow with its rows; every record audited (issue 20) -------------
def _job_run(actor, kind, content, tmp_path):
    from core.importing import import_dataset, import_run
    from core.importing.undo import UndoLog
    from plans.resources import RESOURCES

    return import_run(
        resource=RESOURCES[kind](),
        kind=kind,
        dataset=import_dataset(content, "csv"),
        actor=actor,
        dry_run=False,
        file_format="csv",
        undo_log=UndoLog(tmp_path / "undo"),
    )


def _groups(first: int, n: int) -> str:
    return "account_number,name,account_type,status,renewal_month,employee_count\n" + "".join(
        f"EG-{i},Group {i},group,active,{1 + i % 12},{10 + i}\n" for i in range(first, first + n)
    )


def test_employer_group_chunks_cost_the_same_queries_whatever_their_rows(agency_admin, settings, tmp_path):
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.IMPORT_CHUNK_ROWS = 100
    counts = []
    for first, n in ((0, 10), (100, 40)):
        ContentType.objects.clear_cache()
        with CaptureQueriesContext(connection) as queries:
            report = _job_run(agency_admin, "employer_groups", _groups(first, n), tmp_path)
        assert report.written and report.totals == {"new": n}
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1]
    # the same groups renamed: updated together, each audited with its change
    renamed = _groups(100, 40).replace(",Group ", ",Renamed group ")
    ContentType.objects.clear_cache()
    with CaptureQueriesContext(connection) as queries:
        report = _job_run(agency_admin, "employer_groups", renamed, tmp_path)
    assert report.totals == {"update": 40} and len(queries.captured_queries) <= counts[0] + 4
    assert EmployerGroup.objects.filter(name__startswith="Renamed group").count() == 40
    updates = AuditLog.objects.filter(action="update", content_type__model="employergroup")
    assert updates.count() == 40 and {e.summary for e in updates} == {"Changed name"}
    assert AuditLog.objects.filter(action="create", content_type__model="employergroup").count() == 50


def test_plan_chunks_write_plans_and_rates_together_each_audited(agency_admin, settings, tmp_path):
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.IMPORT_CHUNK_ROWS = 100
    EmployerGroupFactory(account_number="EG-9")
    CarrierFactory(code="acme-dental")
    row = "EG-9,acme-dental,dental,Dental {i},ppo,2026-01-01,2027-01-01,tiered,,40,80,75,{family},\n"
    counts = []
    for first, n in ((0, 5), (100, 20)):
        content = PLAN_HEADER + "".join(row.format(i=i, family=120) for i in range(first, first + n))
        ContentType.objects.clear_cache()
        with CaptureQueriesContext(connection) as queries:
            report = _job_run(agency_admin, "plans", content, tmp_path)
        assert report.written and report.totals == {"new": n}
        # the plan hooks' own queries (plansync looks each plan's link up) are theirs, one per plan
        counts.append(len([q for q in queries.captured_queries if "plansync_" not in q["sql"]]))
    assert counts[0] == counts[1]
    assert Plan.objects.count() == 25 and PlanRate.objects.count() == 100
    assert AuditLog.objects.filter(action="create", content_type__model="plan").count() == 25
    # a new family rate for the 20: each plan's version bumped once, its rates replaced, audited
    content = PLAN_HEADER + "".join(row.format(i=i, family=130) for i in range(100, 120))
    assert _job_run(agency_admin, "plans", content, tmp_path).totals == {"update": 20}
    changed = Plan.objects.filter(name__in=[f"Dental {i}" for i in range(100, 120)])
    assert {p.version for p in changed} == {2} and PlanRate.objects.filter(tier="family", monthly_rate=130).count() == 20
    assert {e.summary for e in AuditLog.objects.filter(action="update", content_type__model="plan")} == {"Changed rates"}
