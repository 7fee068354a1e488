"""Faults, with real Celery worker processes on PostgreSQL + Redis: SIGKILL mid-job, races, redelivery."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import Count

from accounts.models import AuditLog
from individuals.models import Individual
from salesrecords.models import Activity, MassCreationJob, SalesRecord
from salesrecords.tasks import mass_creation_run_task

from .factories import SalesRecordFactory, SalesRecordTypeFactory, SalesWorkflowFactory

pytestmark = pytest.mark.worker
ROOT = Path(__file__).resolve().parents[2]
CHUNK = "200"


@pytest.fixture
def small_chunks(monkeypatch):
    """Worker processes started after this use small chunks, so a job spans many transactions."""
    monkeypatch.setenv("SALESRECORDS_CHUNK_SIZE", CHUNK)


def _env():
    """A process on the test database and the test queue (the ``celery_worker_process`` fixture's)."""
    from config.celery import app

    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    queue = app.conf.task_default_queue
    return queue, {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "INTEGRATIONS_QUEUE": queue,
    }


def start_worker(queue=None, name=None):
    """Another worker on the test queue (or ``queue``), like a restarted one."""
    test_queue, env = _env()
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            queue or test_queue,
            "-c",
            "1",
            *(["-n", name] if name else []),
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
    )


def wait_ready(name, timeout=120):
    from config.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if app.control.ping(destination=[name], timeout=1.0):
            return
    pytest.fail(f"worker {name} did not start")


def start_beat():
    """``celery beat`` on the database schedule with the 15-second sweep (as the migrations seed it: a test
    database flushed by an earlier transactional test may have lost the seeded row)."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    every_15s, _ = IntervalSchedule.objects.get_or_create(every=15, period="seconds")
    PeriodicTask.objects.update_or_create(
        task="salesrecords.tasks.mass_creation_jobs_sweep_task",
        defaults={"name": "salesrecords: sweep sales record creation jobs nobody holds", "interval": every_15s, "enabled": True},
    )
    _, env = _env()
    return subprocess.Popen([sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel", "WARNING"], cwd=ROOT, env=env)


def kill_tree(process):
    """SIGKILL a worker and its pool processes: nothing gets to clean up."""
    children = []
    for task in Path(f"/proc/{process.pid}/task").iterdir():
        children += [int(pid) for pid in (task / "children").read_text().split()]
    for pid in [process.pid, *children]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait(timeout=10)


def stop(process):
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def wait_finished(*jobs, timeout=180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(MassCreationJob.objects.get(pk=j.pk).finished for j in jobs):
            return [MassCreationJob.objects.get(pk=j.pk) for j in jobs]
        time.sleep(0.2)
    pytest.fail(f"jobs not finished: {list(MassCreationJob.objects.filter(pk__in=[j.pk for j in jobs]).values())}")


def seed(count, **fields):
    Individual.objects.bulk_create([Individual(first_name=f"F{i}", last_name=f"L{i}", **fields) for i in range(count)], batch_size=2000)


def no_duplicates():
    return not SalesRecord.objects.values("individual").annotate(n=Count("id")).filter(n__gt=1).exists()


def start_job(user, criteria, name="Renewal"):
    job = MassCreationJob.objects.create(created_by=user, criteria=criteria, record_type=SalesRecordTypeFactory(name=name))
    mass_creation_run_task.delay(job.pk)
    return job


def test_a_worker_killed_mid_job_is_resumed_by_the_beat_sweep_within_a_minute_and_finished_exactly(small_chunks, celery_worker_process, agency_admin):
    from config.celery import app

    # given beat (the 15-second sweep) and a standby worker, both started up, and a job with a workflow
    # running on the first worker
    beat = start_beat()
    standby = f"standby-{uuid.uuid4().hex[:6]}@{socket.gethostname()}"
    replacement = start_worker(queue=f"{app.conf.task_default_queue}-standby", name=standby)
    try:
        seed(20_000, state="FL")
        existing = list(Individual.objects.order_by("?")[:700])
        for person in existing:
            SalesRecordFactory(individual=person)
        SalesWorkflowFactory(name="Call them")
        wait_ready(standby)
        job = start_job(agency_admin, {"state": ["FL"]})
        deadline = time.monotonic() + 60
        while MassCreationJob.objects.get(pk=job.pk).processed < 2000 and time.monotonic() < deadline:
            time.sleep(0.01)

        # when the whole worker dies (no chance to clean up); the standby serves the queue from now on
        kill_tree(celery_worker_process)
        killed_at = time.monotonic()
        killed = MassCreationJob.objects.get(pk=job.pk)
        assert killed.status == "running" and 0 < killed.processed < 20_000, "the kill must land mid-job"
        app.control.add_consumer(app.conf.task_default_queue, destination=[standby], reply=True)

        # then the job runs again within 60 s, on the other worker, and finishes exactly
        while time.monotonic() < killed_at + 60:
            now = MassCreationJob.objects.get(pk=job.pk)
            if now.tries > killed.tries and (now.processed > killed.processed or now.finished):
                break
            time.sleep(0.2)
        else:
            from django_celery_beat.models import PeriodicTask

            sweep = PeriodicTask.objects.get(task="salesrecords.tasks.mass_creation_jobs_sweep_task")
            pytest.fail(
                f"the job did not run again within 60 s of the kill: {now.status}, {now.processed} processed, "
                f"try {now.tries}, lease until {now.lease_until}; sweep last run {sweep.last_run_at}, "
                f"{sweep.total_run_count} runs, enabled {sweep.enabled}"
            )
        (job,) = wait_finished(job, timeout=120)
    finally:
        stop(beat)
        stop(replacement)

    assert (job.status, job.matched, job.created, job.skipped) == ("succeeded", 20_000, 19_300, 700)
    assert SalesRecord.objects.filter(job=job).count() == 19_300 and no_duplicates()
    assert Activity.objects.count() == 19_300  # the workflow ran exactly once per created record
    assert AuditLog.objects.filter(action="bulk", object_id=str(job.pk)).count() == 1


def test_a_job_whose_search_the_database_cannot_run_fails_with_the_reason(celery_worker_process, agency_admin):
    # The database refuses every new sales record (a trigger): the task raises mid-job.
    seed(50, state="FL")
    with connection.cursor() as cursor:
        cursor.execute("CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'no room for records'; END $$ LANGUAGE plpgsql")
        cursor.execute("CREATE TRIGGER refuse BEFORE INSERT ON salesrecords_salesrecord FOR EACH ROW EXECUTE FUNCTION refuse()")
    try:
        job = start_job(agency_admin, {"state": ["FL"]})
        (job,) = wait_finished(job, timeout=60)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER refuse ON salesrecords_salesrecord; DROP FUNCTION refuse()")
    assert job.status == "failed" and "no room for records" in job.reason
    assert not SalesRecord.objects.exists()


def test_two_overlapping_jobs_started_together_create_each_record_once(small_chunks, celery_worker_process, agency_admin):
    seed(3000, state="FL")
    seed(3000, state="GA")
    seed(3000, state="TX")
    second = start_worker()
    try:
        a = start_job(agency_admin, {"state": ["FL", "GA"]})
        b = start_job(agency_admin, {"state": ["GA", "TX"]}, name="Lead")
        a, b = wait_finished(a, b)
    finally:
        stop(second)

    assert SalesRecord.objects.count() == 9000 and no_duplicates()
    assert (a.matched, b.matched) == (6000, 6000)
    assert a.created + b.created == 9000 and a.skipped + b.skipped == 3000
    assert a.created + a.skipped == 6000 and b.created + b.skipped == 6000


def test_a_redelivered_task_creates_nothing_new(small_chunks, celery_worker_process, agency_admin):
    seed(4000, state="OH")
    SalesWorkflowFactory(name="Call them")
    second = start_worker()
    try:
        job = start_job(agency_admin, {"state": "OH"})
        mass_creation_run_task.delay(job.pk)  # the same message twice, run by two workers at once
        (job,) = wait_finished(job)
        mass_creation_run_task.delay(job.pk)  # and once more after it finished
        time.sleep(2)
    finally:
        stop(second)

    job.refresh_from_db()
    assert (job.status, job.created, job.skipped) == ("succeeded", 4000, 0)
    assert SalesRecord.objects.count() == 4000 and Activity.objects.count() == 4000 and no_duplicates()
    assert AuditLog.objects.filter(action="bulk", object_id=str(job.pk)).count() == 1


def test_a_job_with_invalid_criteria_fails_with_the_reason_and_writes_nothing(celery_worker_process, agency_admin):
    seed(50, state="FL")
    job = start_job(agency_admin, {"state": ["FL"], "carrier": "999999"})
    (job,) = wait_finished(job, timeout=60)
    assert job.status == "failed" and "carrier" in job.reason
    assert not SalesRecord.objects.exists()
