"""Faults, with real Celery worker processes on PostgreSQL + Redis: SIGKILL mid-job, races, redelivery."""
import contextlib
import os
import signal
import subprocess
import sys
import time
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
    return queue, {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.test",
                   "CELERY_TASK_ALWAYS_EAGER": "false", "CELERY_TASK_DEFAULT_QUEUE": queue,
                   "INTEGRATIONS_QUEUE": queue}


def start_worker():
    """Another worker on the test queue, like a restarted one."""
    queue, env = _env()
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue, "-c", "1",
         "--loglevel", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"], cwd=ROOT, env=env)


def start_beat():
    """``celery beat`` on the database schedule the migrations seed (the 15-second sweep among them)."""
    _, env = _env()
    return subprocess.Popen([sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel", "WARNING"],
                            cwd=ROOT, env=env)


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
    Individual.objects.bulk_create([Individual(first_name=f"F{i}", last_name=f"L{i}", **fields) for i in range(count)],
                                   batch_size=2000)


def no_duplicates():
    return not SalesRecord.objects.values("individual").annotate(n=Count("id")).filter(n__gt=1).exists()


def start_job(user, criteria, name="Renewal"):
    job = MassCreationJob.objects.create(created_by=user, criteria=criteria, record_type=SalesRecordTypeFactory(name=name))
    mass_creation_run_task.delay(job.pk)
    return job


def test_a_worker_killed_mid_job_is_resumed_by_the_beat_sweep_within_a_minute_and_finished_exactly(
        small_chunks, celery_worker_process, agency_admin):
    # given a job with workflows running on a worker, and beat running the 15-second sweep
    seed(20_000, state="FL")
    existing = list(Individual.objects.order_by("?")[:700])
    for person in existing:
        SalesRecordFactory(individual=person)
    SalesWorkflowFactory(name="Call them")
    beat = start_beat()
    replacement = None
    try:
        job = start_job(agency_admin, {"state": ["FL"]})
        deadline = time.monotonic() + 60
        while MassCreationJob.objects.get(pk=job.pk).processed < 2000 and time.monotonic() < deadline:
            time.sleep(0.01)

        # when the whole worker dies (no chance to clean up) and another one is started
        kill_tree(celery_worker_process)
        killed_at = time.monotonic()
        killed = MassCreationJob.objects.get(pk=job.pk)
        assert killed.status == "running" and 0 < killed.processed < 20_000, "the kill must land mid-job"
        replacement = start_worker()

        # then the job runs again within 60 s, on the new worker, and finishes exactly
        while time.monotonic() < killed_at + 60:
            now = MassCreationJob.objects.get(pk=job.pk)
            if now.runner not in ("", killed.runner) and (now.processed > killed.processed or now.finished):
                break
            time.sleep(0.2)
        else:
            pytest.fail(f"the job did not run again within 60 s of the kill: {now.status}, {now.processed} processed")
        (job,) = wait_finished(job, timeout=120)
    finally:
        stop(beat)
        if replacement is not None:
            stop(replacement)

    assert (job.status, job.matched, job.created, job.skipped) == ("done", 20_000, 19_300, 700)
    assert SalesRecord.objects.filter(job=job).count() == 19_300 and no_duplicates()
    assert Activity.objects.count() == 19_300  # the workflow ran exactly once per created record
    assert AuditLog.objects.filter(action="bulk", object_id=str(job.pk)).count() == 1


def test_a_job_whose_search_the_database_cannot_run_fails_with_the_reason(celery_worker_process, agency_admin):
    # The database refuses every new sales record (a trigger): the task raises mid-job.
    seed(50, state="FL")
    with connection.cursor() as cursor:
        cursor.execute("CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'no room for records'; "
                       "END $$ LANGUAGE plpgsql")
        cursor.execute("CREATE TRIGGER refuse BEFORE INSERT ON salesrecords_salesrecord FOR EACH ROW EXECUTE FUNCTION refuse()")
    try:
        job = start_job(agency_admin, {"state": ["FL"]})
        (job,) = wait_finished(job, timeout=60)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER refuse ON salesrecords_salesrecord; DROP FUNCTION refuse()")
    assert job.status == "failed" and "no room for records" in job.error
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
    assert (job.status, job.created, job.skipped) == ("done", 4000, 0)
    assert SalesRecord.objects.count() == 4000 and Activity.objects.count() == 4000 and no_duplicates()
    assert AuditLog.objects.filter(action="bulk", object_id=str(job.pk)).count() == 1


def test_a_job_with_invalid_criteria_fails_with_the_reason_and_writes_nothing(celery_worker_process, agency_admin):
    seed(50, state="FL")
    job = start_job(agency_admin, {"state": ["FL"], "carrier": "999999"})
    (job,) = wait_finished(job, timeout=60)
    assert job.status == "failed" and "carrier" in job.error
    assert not SalesRecord.objects.exists()
