"""Mass creation of sales records: N individuals (default 1,000,000, and N/5), a search matching 3N/10 of
them (``record_status`` prospect or inactive), a third of whom (the inactive ones) already have a sales
record, so that N/5 are created (200,000 at 1M); one active workflow creating an activity per new record.

Figures: the job end to end through a real Celery worker process (enqueue -> Done: records, activities
and workflow runs) against the same rows written by plain SQL through psycopg: ONE statement, an
``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` of the records with the activities and run rows in
data-modifying CTEs, into the real tables (goal: <= 1.5x); where the job's time went (queue pickup,
chunks, the rest); the worker's peak memory (VmHWM of the pool process, goal <= 256 MB, flat in N); and the
created / skipped / activity / run counts against the exact expected ones.

Runs on its own database per size (``<bench database>_sales_<N>``), because it needs exactly N seeded
individuals. Needs Redis (REDIS_URL, default redis://127.0.0.1:6379/5).
"""

import os
import subprocess
import sys
import time
from pathlib import Path

from bench.report import figure, peak_rss_mb
from bench.setup import vacuum_analyze

DEFAULT = 1_000_000
BENCH = "mass_create"
QUEUE = "bench-mass-create"
ROOT = Path(__file__).resolve().parent.parent
MEMORY_LIMIT_MB = 256
WORKFLOW = "Bench: call new prospects"
STATUSES = ["prospect", "inactive"]  # 3 in 10 individuals (seed_individuals): the search's matches


def _ensure_individuals(size: int) -> None:
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import Agent, User
    from individuals.models import Individual

    have = Individual.objects.count()
    if have == size:
        return
    print(f"Seeding {size} individuals (had {have})...")
    with connection.cursor() as cursor:
        for table in ("salesrecords_activity", "salesrecords_salesworkflowrun", "salesrecords_salesrecord", "salesrecords_masscreationjob"):
            cursor.execute(f"DELETE FROM {table}")
    if not Agent.objects.exists():  # three of five agents log in: their individuals' records get them assigned
        for i in range(5):
            user = User.objects.create(username=f"bench-agent-{i}", is_staff=True) if i < 3 else None
            Agent.objects.create(first_name="Agent", last_name=str(i), user=user)
    call_command("seed_individuals", "--count", str(size), "--truncate")


def _reset(expected_existing: int) -> None:
    """No sales records but ``expected_existing`` among the matches (every 3rd: the inactive ones), one workflow."""
    from django.db import connection

    from salesrecords.models import SalesRecordType, SalesWorkflow

    lead = SalesRecordType.objects.get(name="Lead")
    with connection.cursor() as cursor:
        for table in ("salesrecords_activity", "salesrecords_salesworkflowrun", "salesrecords_salesrecord", "salesrecords_masscreationjob"):
            cursor.execute(f"DELETE FROM {table}")
        cursor.execute(
            "INSERT INTO salesrecords_salesrecord (individual_id, record_type_id, stage, temperature, first_name, middle_name, "
            "last_name, nickname, title, record_status, secondary_email, cell_phone, home_phone, address_type, address_line1, "
            "city, county, zip_code, state, gender, lead_source, smoker_status, ssn_encrypted, ssn_hash, ssn_last4, "
            "medicare_beneficiary_id_encrypted, medicare_beneficiary_id_hash, medicare_beneficiary_id_last4, "
            "drivers_license_encrypted, drivers_license_hash, drivers_license_last4, custom_fields, created_at, updated_at) "
            "SELECT id, %s, 'new', '', first_name, '', last_name, '', '', record_status, '', '', '', '', '', '', '', '', '', '', "
            "'', '', '', '', '', '', '', '', '', '', '', '{}', now(), now() FROM ("
            "  SELECT id, first_name, last_name, record_status, row_number() OVER (ORDER BY id) AS n"
            "  FROM individuals_individual WHERE record_status = ANY(%s)) p WHERE n %% 3 = 0",
            [lead.pk, STATUSES],
        )
        assert cursor.rowcount == expected_existing, (cursor.rowcount, expected_existing)
    # So that the real tables are as compact as the plain run's fresh copy.
    vacuum_analyze("salesrecords_salesrecord", "salesrecords_activity", "salesrecords_salesworkflowrun")
    SalesWorkflow.objects.update_or_create(
        name=WORKFLOW, defaults={"active": True, "create_activity": True, "activity_subject": "Call about the renewal", "activity_due_days": 3}
    )


def _plain_statements(conn) -> tuple[float, int]:
    """The job's rows written by ONE plain statement through psycopg, into the real tables: a sales record
    per match without one (``ON CONFLICT DO NOTHING``), and for each new record the workflow's activity
    and run row (data-modifying CTEs). Committed; the caller resets the tables afterwards."""
    from salesrecords.models import CARRIED_FIELDS, PERSONAL_COLUMNS

    copied = ", ".join(f"i.{c}" for c in (*CARRIED_FIELDS, *PERSONAL_COLUMNS))
    columns = ", ".join(
        (
            "individual_id",
            "record_type_id",
            "assigned_user_id",
            "stage",
            "temperature",
            *CARRIED_FIELDS,
            *PERSONAL_COLUMNS,
            "custom_fields",
            "created_at",
            "updated_at",
        )
    )
    record_type = conn.execute("SELECT id FROM salesrecords_salesrecordtype WHERE name = 'Renewal'").fetchone()[0]
    workflow, subject, due_days = conn.execute(
        "SELECT id, activity_subject, activity_due_days FROM salesrecords_salesworkflow WHERE name = %s", [WORKFLOW]
    ).fetchone()
    start = time.perf_counter()
    with conn.transaction():
        inserted = conn.execute(
            f"WITH created AS (INSERT INTO salesrecords_salesrecord ({columns}) "
            f"  SELECT i.id, %s, a.user_id, 'new', '', {copied}, i.custom_fields, now(), now() "
            "  FROM individuals_individual i LEFT JOIN accounts_agent a ON a.id = i.servicing_agent_id "
            "  WHERE i.record_status = ANY(%s) ON CONFLICT (individual_id) DO NOTHING RETURNING id, assigned_user_id), "
            "activities AS (INSERT INTO salesrecords_activity (subject, sales_record_id, assigned_to_id, due_date, done, notes, "
            "  workflow_id, created_at, updated_at) "
            "  SELECT %s, id, assigned_user_id, current_date + %s, FALSE, '', %s, now(), now() FROM created), "
            "runs AS (INSERT INTO salesrecords_salesworkflowrun (workflow_id, sales_record_id, created_at) "
            "  SELECT %s, id, now() FROM created) "
            "SELECT count(*) FROM created",
            [record_type, STATUSES, subject, due_days, workflow, workflow],
        ).fetchone()[0]
    return time.perf_counter() - start, inserted


def _children(pid: int) -> list[int]:
    result = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        result += [int(p) for p in (task / "children").read_text().split()]
    return result


def _start_worker(env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            QUEUE,
            "-c",
            "1",
            "-n",
            "bench-mass@%h",
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )


def run(size: int = DEFAULT) -> list[dict]:
    from django.conf import settings
    from django.db import transaction

    from accounts.models import User
    from bench.setup import psycopg_connect, sized_database
    from config.celery import app
    from individuals.models import Individual
    from salesrecords.models import Activity, MassCreationJob, SalesRecordType, SalesWorkflowRun
    from salesrecords.services import mass_creation_job_create

    size -= size % 10  # so that 3 in 10 match and a third of those already have a record, exactly
    url = sized_database(size, "sales")
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/5"
    app.conf.update(
        broker_url=redis_url,
        result_backend=redis_url,
        task_default_queue=QUEUE,
        task_always_eager=False,
        broker_transport_options={"visibility_timeout": 3600},
    )
    _ensure_individuals(size)
    matched, existing = size * 3 // 10, size // 10
    _reset(existing)
    assert Individual.objects.filter(record_status__in=STATUSES).count() == matched
    actor = User.objects.filter(is_superuser=True, username="bench-sales").first() or User.objects.create(
        username="bench-sales", is_superuser=True, is_staff=True
    )
    print(f"mass_create: {size} individuals, search matches {matched}, {existing} of them already have a sales record")

    with psycopg_connect() as conn:
        plain_seconds, plain_rows = _plain_statements(conn)
    assert plain_rows == matched - existing, plain_rows
    _reset(existing)

    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "false",
    }
    worker = _start_worker(env)
    try:
        for _ in range(60):
            if app.control.ping(timeout=1.0):
                break
        pool = _children(worker.pid)
        baseline = max(peak_rss_mb(p) for p in pool)
        start = time.perf_counter()
        with transaction.atomic():
            job = mass_creation_job_create(actor=actor, criteria={"record_status": STATUSES}, record_type=SalesRecordType.objects.get(name="Renewal"))
        while not MassCreationJob.objects.get(pk=job.pk).finished:
            if worker.poll() is not None:
                raise RuntimeError("the worker stopped")
            time.sleep(0.02)
        job_seconds = time.perf_counter() - start
        peak = max(peak_rss_mb(p) for p in _children(worker.pid))
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    job = MassCreationJob.objects.get(pk=job.pk)
    activities, runs = Activity.objects.count(), SalesWorkflowRun.objects.count()
    # Where the job's time went: the queue (commit -> a worker marks it running, its counts included),
    # the chunks (running -> succeeded), and this loop noticing it (polls every 20 ms).
    pickup = (job.started_at - job.created_at).total_seconds()
    chunks = (job.finished_at - job.started_at).total_seconds()
    # The plain statement once more, after the job (same existing rows): the faster of the two is the
    # limit, so that a busy moment during the first one does not flatter the ratio.
    _reset(existing)
    with psycopg_connect() as conn:
        again, rows = _plain_statements(conn)
    assert rows == plain_rows, rows
    plain_seconds = min(plain_seconds, again)
    step = int(os.environ.get("SALESRECORDS_CHUNK_SIZE") or settings.SALESRECORDS_CHUNK_SIZE)
    results = [
        figure(
            BENCH,
            "job end to end (worker) vs the same rows by plain SQL",
            value=job_seconds,
            unit="s",
            limit=plain_seconds,
            goal=1.5,
            grows="linear",
            note=f"{job.created / job_seconds:,.0f} vs {plain_rows / plain_seconds:,.0f} records/s (each with an activity "
            f"and a workflow run); queue pickup {pickup:.2f} s, {-(-job.last_id // step)} chunks of {step} ids "
            f"{chunks:.2f} s, the rest (creating the job, noticing it succeeded) {job_seconds - pickup - chunks:.2f} s",
        ),
        figure(
            BENCH,
            "worker peak memory (pool process VmHWM)",
            value=peak,
            unit="MB",
            limit=MEMORY_LIMIT_MB,
            goal=1.0,
            grows="flat",
            note=f"{baseline:.0f} MB before the job",
        ),
        figure(BENCH, "created records vs expected", value=job.created, unit="rows", limit=matched - existing, goal=1.0, note=f"status {job.status}"),
        figure(BENCH, "skipped records vs expected", value=job.skipped, unit="rows", limit=existing, goal=1.0),
    ]
    exact = (job.status, job.matched, job.created, job.skipped, activities, runs) == (
        "succeeded",
        matched,
        matched - existing,
        existing,
        matched - existing,
        matched - existing,
    )
    print(
        f"  exact counts: matched {job.matched}, created {job.created}, skipped {job.skipped}, activities {activities}, "
        f"workflow runs {runs}: {'yes' if exact else 'NO'}"
    )
    for row in results[2:]:
        row["ok"] = row["ok"] and exact
    return results
