"""Longest write transaction of each job, on SQLite (issue 20): ``python -m bench transactions [--size N]``.

On SQLite a write transaction holds the one write lock every other writer (a person saving a form, the
API, beat's sweeps) waits for; the goal is that no job holds it longer than 1,000 ms, whatever its size.
Each job runs in this process (Celery eager) under ``core.db.write_transactions``, against a sandbox
started for the run, on the SQLite file ``var/bench/transactions.sqlite3`` (``DATABASE_URL`` to change it):

- mass creation of sales records over N individuals (default 10,000), with a workflow creating an activity;
- the workflow emails of N/10 of those records;
- a CSV export job of the N individuals;
- an individuals import job of N new people (reported: the imports' chunks are ``core.importing``'s);
- a benefits sync (hrsync) of N/50 employees;
- a plan sync (plansync) of one group with N/200 plans;
- an AMS reconciliation of a book of N/20 customers;
- a carrier connection polled to completion and pulled, with its discrepancy check (N/50 members).

Figures: each job's longest write transaction in ms (limit 1,000 ms, goal ratio <= 1; its statements and
rows in the note), expected flat in N (``python -m bench`` prints the growth from N/5 to N).
"""

import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from bench.report import figure

DEFAULT = 10_000
BENCH = "transactions"
ROOT = Path(__file__).resolve().parent.parent
GOAL_MS = 1000.0
ENVIRONMENT = {  # python -m bench sets these before Django starts (unless already set)
    "DATABASE_URL": f"sqlite:///{ROOT / 'var' / 'bench' / 'transactions.sqlite3'}",
    "CELERY_TASK_ALWAYS_EAGER": "true",
    "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
}
(ROOT / "var" / "bench").mkdir(parents=True, exist_ok=True)
_sandbox: dict = {}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_sandbox() -> str:
    if _sandbox:
        return _sandbox["url"]
    from django.conf import settings

    folder = ROOT / "var" / "bench" / "transactions-sandbox"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sandbox.sqlite3").unlink(missing_ok=True)
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", str(port), "--db", str(folder / "sandbox.sqlite3")], cwd=ROOT, stdout=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if requests.get(f"{url}/healthz", timeout=2).ok:
                break
        except requests.RequestException:
            time.sleep(0.1)
    settings.SANDBOX_URL, settings.BENEFITS_PLATFORM_URL, settings.BENEFITS_ADMIN_URL = url, f"{url}/benefits", ""
    import atexit

    atexit.register(process.terminate)
    _sandbox.update(url=url, process=process)
    return url


def _row(name: str, log, *, what: str) -> dict:
    longest = log.longest
    ms = longest.ms if longest else 0.0
    statements, rows = (longest.statements, longest.rows) if longest else (0, 0)
    times = sorted(t.ms for t in log.done)
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))] if times else 0.0
    note = f"{what}; {len(times)} write transactions (p99 {p99:.0f} ms), the longest {statements} statements / {rows} rows"
    return figure(BENCH, f"{name}: longest write transaction", value=ms, unit="ms", limit=GOAL_MS, goal=1.0, note=note, grows="flat")


def _admin():
    from accounts.models import User

    user, _ = User.objects.get_or_create(username="bench-transactions", defaults={"is_staff": True, "is_superuser": True})
    return user


def _mass_creation_and_emails(size: int, actor) -> list[dict]:
    from django.core.management import call_command

    from core.db import write_transactions
    from salesrecords.models import MassCreationJob, SalesRecordType, SalesWorkflow, WorkflowEmail
    from salesrecords.services import mass_create, mass_creation_job_create
    from salesrecords.workflows import workflow_emails_send

    call_command("seed_individuals", "--count", str(size), "--truncate", verbosity=0)
    WorkflowEmail.objects.all().delete()
    MassCreationJob.objects.all().delete()
    SalesWorkflow.objects.all().delete()
    record_type, _ = SalesRecordType.objects.get_or_create(name="Renewal")
    SalesWorkflow.objects.create(name="Bench: call", active=True, create_activity=True, activity_subject="Call", activity_due_days=3)
    SalesWorkflow.objects.create(
        name="Bench: mail",
        active=True,
        criteria={"record_status": ["inactive"]},  # 1 in 10 seeded individuals
        send_email=True,
        email_to=SalesWorkflow.EmailTo.RECORD,
        email_subject="Hello {{ record.last_name }}",
        email_body="...",
    )
    enqueue = mass_create.workflow_emails_enqueue
    mass_create.workflow_emails_enqueue = lambda: None  # the outbox is filled here, and sent below on its own
    try:
        with write_transactions() as log:
            job = mass_creation_job_create(actor=actor, criteria={}, record_type=record_type)
    finally:
        mass_create.workflow_emails_enqueue = enqueue
    job.refresh_from_db()
    assert job.status == "succeeded" and job.created == size, (job.status, job.created, job.reason)
    rows = [_row("mass creation", log, what=f"{job.created:,} records")]
    emails = WorkflowEmail.objects.count()
    with write_transactions() as log:
        workflow_emails_send()
    rows.append(_row("workflow emails", log, what=f"{emails:,} emails"))
    return rows


def _export(size: int, actor) -> list[dict]:
    from core.db import write_transactions
    from individuals.models import ExportJob
    from individuals.services import exports

    job = ExportJob.objects.create(owner=actor, criteria={})
    with write_transactions() as log:
        job = exports.export_job_run(job_id=job.pk)
    assert job.status == "succeeded", job.reason
    return [_row("individuals export", log, what=f"{size:,} individuals")]


def _individuals_import(size: int, actor) -> list[dict]:
    """Reported, not owned here: the imports' own chunks (core.importing), as a job (a file over 1 MB)."""
    from bench.soak import import_file
    from core.db import write_transactions
    from core.models import ImportJob
    from individuals.services.imports import individuals_import

    content, rows = import_file(max(1.2, size * 190 / 1e6), seed=size)
    with write_transactions() as log:
        report = individuals_import(actor=actor, kind="individuals", content=content, dry_run=False)
    job = ImportJob.objects.filter(pk=report.job).first() if report.job else None
    done = f"{job.status}, {job.rows_written:,}" if job else f"in the request ({report.rows:,})"
    return [_row("individuals import (imports' own chunks)", log, what=f"{done} of {rows:,} rows written")]


def _hrsync(size: int, actor) -> list[dict]:
    from core.db import write_transactions
    from hrsync.models import Employee
    from hrsync.services import employee_sync_request
    from tests.hrsync.factories import EmployeeFactory

    employees = EmployeeFactory.create_batch(max(5, size // 50))
    with write_transactions() as log:
        employee_sync_request(actor=actor, employees=[e.pk for e in employees])
    synced = Employee.objects.filter(pk__in=[e.pk for e in employees], sync_state="successful").count()
    return [_row("hrsync sync", log, what=f"{synced:,} of {len(employees):,} employees synced")]


def _plansync(size: int, url: str) -> list[dict]:
    from core.db import write_transactions
    from plansync.models import PlanChoice
    from plansync.services import Row, account_import, plan_choices_save, plan_sync_pass

    plans = max(2, size // 200)
    (account_id,) = requests.post(f"{url}/benefitpoint/_control/bench-seed", json={"accounts": 1, "plans": plans}, timeout=600).json()["accountIDs"]
    link = account_import(actor=None, account_id=account_id)
    products = requests.get(f"{url}/benefitpoint/_control/products", params={"accountID": account_id}, timeout=30).json()["results"]
    plan_choices_save(actor=None, link=link, rows=[Row(choice="create_there", product_id=p["productID"]) for p in products])
    with write_transactions() as log:
        (run,) = plan_sync_pass(trigger="manual", actor=None, link_ids=[link.pk])
    synced = PlanChoice.objects.filter(link=link, state="synced").count()
    return [_row("plan sync", log, what=f"{run.status}, {synced} of {len(products)} plans synced")]


def _reconcile(size: int, url: str) -> list[dict]:
    from ams.models import Reconciliation
    from ams.services import reconciliation_request
    from core.db import write_transactions

    customers = max(10, size // 20)
    requests.post(f"{url}/_sandbox/ams/reset", json={"customers": customers}, timeout=600).raise_for_status()
    with write_transactions() as log:
        run = reconciliation_request(actor=None)
    run = Reconciliation.objects.get(pk=run.pk)
    return [_row("AMS reconcile", log, what=f"{run.status}, {run.customers_seen:,} customers seen")]


def _carriers(size: int, url: str, actor) -> list[dict]:
    from carriers.models import Discrepancy
    from carriers.services import connection_poll, connection_pull, connection_request
    from core.db import write_transactions
    from tests.carriers.factories import connected_group, roster

    members = max(5, size // 50)
    group, carrier = connected_group(members=members)
    carrier_group = f"CG-{group.pk}"
    requests.post(f"{url}/_sandbox/noyo/rosters", json=roster(group, carrier, carrier_group, share=0.25, seed=5), timeout=60).raise_for_status()
    with write_transactions() as log:
        link = connection_request(actor=actor, employer_group=group, carrier=carrier, carrier_group_id=carrier_group)
        for _ in range(200):
            if link.status == "completed":
                break
            link = connection_poll(connection_id=link.pk, force=True)
        connection_pull(connection_id=link.pk)
    found = Discrepancy.objects.filter(connection=link).count()
    return [_row("carriers poll and discrepancy check", log, what=f"{link.status}, {members} members, {found} discrepancies")]


def run(size: int = DEFAULT) -> list[dict]:
    import logging

    from django.conf import settings

    logging.getLogger("celery.app.trace").setLevel(logging.WARNING)  # a line per eager task otherwise

    print(f"  SQLite {settings.DATABASES['default']['NAME']}; SALESRECORDS_CHUNK_SIZE {settings.SALESRECORDS_CHUNK_SIZE}")
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3") is False:
        print("  note: not SQLite; the goal is SQLite's (one write lock for everyone)")
    url = _start_sandbox()
    actor = _admin()
    rows = _mass_creation_and_emails(size, actor)
    rows += _export(size, actor)
    rows += _individuals_import(size, actor)
    rows += _hrsync(size, actor)
    rows += _plansync(size, url)
    rows += _reconcile(size, url)
    rows += _carriers(size, url, actor)
    return rows
