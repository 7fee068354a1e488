"""Mass creation of sales records: N individuals (default 100,000; the issue's figure is 1,000,000),
a search matching N/5 of them (``record_status=prospect``), a quarter of whom already have a sales
record, one active workflow creating an activity per new record.

Figures: the job end to end through a real Celery worker process (enqueue -> Done, activities
included) against the same rows inserted by ONE plain ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``
into a copy of the table, through plain psycopg (goal: <= 2x); the worker's peak memory (VmHWM of
the pool process, goal <= 256 MB); and the created / skipped counts against the exact expected ones.

Runs on its own database (``agencydesk_bench_sales``) unless DATABASE_URL is set, because it needs
exactly N seeded individuals. Needs Redis (REDIS_URL, default redis://127.0.0.1:6379/5).
"""
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.report import figure

DEFAULT = 100_000
BENCH = "mass_create"
QUEUE = "bench-mass-create"
ROOT = Path(__file__).resolve().parent.parent
MEMORY_LIMIT_MB = 256


def _own_database() -> str:
    """Switch this process to the benchmark's own database (created and migrated); its URL."""
    from django.core.management import call_command
    from django.db import connections

    from bench import setup

    url = os.environ["DATABASE_URL"]
    if url != setup.DEFAULT_URL:
        return url  # the caller chose a database
    url = url.rsplit("/", 1)[0] + "/agencydesk_bench_sales"
    os.environ["DATABASE_URL"] = url
    with setup.psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'agencydesk_bench_sales'").fetchone():
            conn.execute('CREATE DATABASE "agencydesk_bench_sales"')
    connection = connections["default"]
    connection.close()
    connection.settings_dict["NAME"] = "agencydesk_bench_sales"
    call_command("migrate", verbosity=0)
    return url


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
        for table in ("salesrecords_activity", "salesrecords_salesworkflowrun", "salesrecords_salesrecord",
                      "salesrecords_masscreationjob"):
            cursor.execute(f"DELETE FROM {table}")
    if not Agent.objects.exists():  # three of five agents log in: their individuals' records get them assigned
        for i in range(5):
            user = User.objects.create(username=f"bench-agent-{i}", is_staff=True) if i < 3 else None
            Agent.objects.create(first_name="Agent", last_name=str(i), user=user)
    call_command("seed_individuals", "--count", str(size), "--truncate")


def _reset(expected_existing: int) -> None:
    """No sales records but ``expected_existing`` among the matches (every 4th prospect), one workflow."""
    from django.db import connection

    from salesrecords.models import SalesRecordType, SalesWorkflow

    lead = SalesRecordType.objects.get(name="Lead")
    with connection.cursor() as cursor:
        for table in ("salesrecords_activity", "salesrecords_salesworkflowrun", "salesrecords_salesrecord",
                      "salesrecords_masscreationjob"):
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
            "  FROM individuals_individual WHERE record_status = 'prospect') p WHERE n %% 4 = 0",
            [lead.pk],
        )
        assert cursor.rowcount == expected_existing, (cursor.rowcount, expected_existing)
    # Outside a transaction: VACUUM, so that the real table is as compact as the plain run's fresh copy.
    with connection.cursor() as cursor:
        for table in ("salesrecords_salesrecord", "salesrecords_activity", "salesrecords_salesworkflowrun"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    SalesWorkflow.objects.update_or_create(name="Bench: call new prospects", defaults={
        "active": True, "create_activity": True, "activity_subject": "Call about the renewal", "activity_due_days": 3})


def _plain_insert(conn) -> tuple[float, int]:
    """The same rows through ONE plain statement into a copy of the table (with the existing records)."""
    from salesrecords.models import CARRIED_FIELDS, PERSONAL_COLUMNS

    copied = ", ".join(f"i.{c}" for c in (*CARRIED_FIELDS, *PERSONAL_COLUMNS))
    columns = ", ".join(("individual_id", "record_type_id", "assigned_user_id", "stage", "temperature", *CARRIED_FIELDS,
                         *PERSONAL_COLUMNS, "custom_fields", "created_at", "updated_at"))
    conn.execute("DROP TABLE IF EXISTS bench_salesrecord_copy")
    conn.execute("CREATE TABLE bench_salesrecord_copy (LIKE salesrecords_salesrecord INCLUDING ALL)")
    conn.execute("INSERT INTO bench_salesrecord_copy SELECT * FROM salesrecords_salesrecord")
    conn.execute("SELECT setval(pg_get_serial_sequence('bench_salesrecord_copy', 'id'), "
                 "(SELECT coalesce(max(id), 0) + 1 FROM bench_salesrecord_copy))")
    conn.execute("ANALYZE bench_salesrecord_copy")
    record_type = conn.execute("SELECT id FROM salesrecords_salesrecordtype WHERE name = 'Renewal'").fetchone()[0]
    start = time.perf_counter()
    cursor = conn.execute(
        f"INSERT INTO bench_salesrecord_copy ({columns}) "
        f"SELECT i.id, %s, a.user_id, 'new', '', {copied}, i.custom_fields, now(), now() "
        "FROM individuals_individual i LEFT JOIN accounts_agent a ON a.id = i.servicing_agent_id "
        "WHERE i.record_status = 'prospect' ON CONFLICT (individual_id) DO NOTHING", [record_type])
    seconds = time.perf_counter() - start
    inserted = cursor.rowcount
    conn.execute("DROP TABLE bench_salesrecord_copy")
    return seconds, inserted


def _children(pid: int) -> list[int]:
    result = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        result += [int(p) for p in (task / "children").read_text().split()]
    return result


def _peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _start_worker(env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", QUEUE, "-c", "1", "-n", "bench-mass@%h",
         "--loglevel", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL)


def run(size: int = DEFAULT) -> list[dict]:
    from django.db import connection, transaction

    from accounts.models import User
    from bench.setup import psycopg_connect
    from config.celery import app
    from individuals.models import Individual
    from salesrecords.models import Activity, MassCreationJob, SalesRecordType
    from salesrecords.services import mass_creation_job_create

    size -= size % 20  # so that a fifth of them match and a quarter of those are exact
    url = _own_database()
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/5"
    app.conf.update(broker_url=redis_url, result_backend=redis_url, task_default_queue=QUEUE, task_always_eager=False,
                    broker_transport_options={"visibility_timeout": 3600})
    _ensure_individuals(size)
    matched, existing = size // 5, size // 20
    _reset(existing)
    assert Individual.objects.filter(record_status="prospect").count() == matched
    actor = User.objects.filter(is_superuser=True, username="bench-sales").first() or User.objects.create(
        username="bench-sales", is_superuser=True, is_staff=True)
    print(f"mass_create: {size} individuals, search matches {matched}, {existing} of them already have a sales record")

    with psycopg_connect() as conn:
        plain_seconds, plain_rows = _plain_insert(conn)
    assert plain_rows == matched - existing, plain_rows

    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": redis_url, "LOG_LEVEL": "WARNING",
           "DJANGO_SETTINGS_MODULE": "config.settings.local", "DJANGO_DEBUG": "false"}
    worker = _start_worker(env)
    try:
        for _ in range(60):
            if app.control.ping(timeout=1.0):
                break
        pool = _children(worker.pid)
        baseline = max(_peak_mb(p) for p in pool)
        start = time.perf_counter()
        with transaction.atomic():
            job = mass_creation_job_create(actor=actor, criteria={"record_status": ["prospect"]},
                                           record_type=SalesRecordType.objects.get(name="Renewal"))
        while not MassCreationJob.objects.get(pk=job.pk).finished:
            if worker.poll() is not None:
                raise RuntimeError("the worker stopped")
            time.sleep(0.05)
        job_seconds = time.perf_counter() - start
        peak = max(_peak_mb(p) for p in _children(worker.pid))
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    job = MassCreationJob.objects.get(pk=job.pk)
    activities = Activity.objects.count()
    # The plain statement once more, after the job (same existing rows in its copy): the faster of the
    # two is the limit, so that a busy moment during the first one does not flatter the ratio.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM salesrecords_salesrecord WHERE job_id = %s", [job.pk])
    with psycopg_connect() as conn:
        again, rows = _plain_insert(conn)
    assert rows == plain_rows, rows
    plain_seconds = min(plain_seconds, again)
    results = [
        figure(BENCH, "job end to end (worker) vs one plain INSERT…SELECT", value=job_seconds, unit="s", limit=plain_seconds,
               goal=2.0, note=f"{job.created / job_seconds:,.0f} rows/s vs {plain_rows / plain_seconds:,.0f} plain; "
                              f"{activities} activities"),
        figure(BENCH, "worker peak memory (pool process VmHWM)", value=peak, unit="MB", limit=MEMORY_LIMIT_MB, goal=1.0,
               note=f"{baseline:.0f} MB before the job"),
        figure(BENCH, "created records vs expected", value=job.created, unit="rows", limit=matched - existing, goal=1.0,
               note=f"status {job.status}"),
        figure(BENCH, "skipped records vs expected", value=job.skipped, unit="rows", limit=existing, goal=1.0),
    ]
    exact = (job.status, job.matched, job.created, job.skipped, activities) == (
        "done", matched, matched - existing, existing, matched - existing)
    print(f"  exact counts: matched {job.matched}, created {job.created}, skipped {job.skipped}, activities {activities}: "
          f"{'yes' if exact else 'NO'}")
    for row in results[2:]:
        row["ok"] = row["ok"] and exact
    return results
