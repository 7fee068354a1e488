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
from salesrecords.services import mass_creation_resume_stuck
from salesrecords.tasks import mass_creation_run_task

from .factories import SalesRecordFactory, SalesRecordTypeFactory, SalesWorkflowFactory

pytestmark = pytest.mark.worker
ROOT = Path(__file__).resolve().parents[2]
CHUNK = "200"


@pytest.fixture
def small_chunks(monkeypatch):
    """Worker processes started after this use small chunks, so a job spans many transactions."""
    monkeypatch.setenv("SALESRECORDS_CHUNK_SIZE", CHUNK)


def start_worker():
    """Another worker on the test queue (the ``celery_worker_process`` fixture's), like a restarted one."""
    from config.celery import app

    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.test",
           "CELERY_TASK_ALWAYS_EAGER": "false"}
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", app.conf.task_default_queue, "-c", "1",
         "--loglevel", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"], cwd=ROOT, env=env)


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


def test_a_worker_killed_mid_job_leaves_a_job_the_next_worker_finishes_exactly(small_chunks, celery_worker_process, agency_admin):
    seed(12_000, state="FL")
    existing = list(Individual.objects.order_by("?")[:700])
    for person in existing:
        SalesRecordFactory(individual=person)
    SalesWorkflowFactory(name="Call them")
    job = start_job(agency_admin, {"state": ["FL"]})

    deadline = time.monotonic() + 60
    while MassCreationJob.objects.get(pk=job.pk).processed < 2000 and time.monotonic() < deadline:
        time.sleep(0.01)
    kill_tree(celery_worker_process)
    killed = MassCreationJob.objects.get(pk=job.pk)
    assert killed.status == "running" and 0 < killed.processed < 12_000, "the kill must land mid-job"

    replacement = start_worker()
    try:
        assert mass_creation_resume_stuck(older_than_seconds=0) == 1  # what the beat job does after the lease
        (job,) = wait_finished(job)
    finally:
        stop(replacement)

    assert (job.status, job.matched, job.created, job.skipped) == ("done", 12_000, 11_300, 700)
    assert SalesRecord.objects.filter(job=job).count() == 11_300 and no_duplicates()
    assert Activity.objects.count() == 11_300  # the workflow ran exactly once per created record
    assert AuditLog.objects.filter(action="bulk", object_id=str(job.pk)).count() == 1


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
