"""A job never sits silently: errors fail it with the reason; a dead worker's job is queued again by the sweep."""

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import AuditLog
from accounts.rights import Level
from salesrecords.models import MassCreationJob, SalesRecord
from salesrecords.services import mass_creation_job_create, mass_creation_jobs_sweep, mass_creation_run
from tests.individuals.factories import IndividualFactory

from .factories import MassCreationJobFactory, SalesRecordTypeFactory

pytestmark = pytest.mark.django_db
Status = MassCreationJob.Status


@pytest.fixture
def creator(make_user):
    return make_user(individuals=Level.EDIT, sales=Level.EDIT)


@pytest.fixture
def refusing_database():
    """The database refuses every new sales record, as a full disk or a broken constraint would."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'no room for records'; END $$ LANGUAGE plpgsql")
            cursor.execute("CREATE TRIGGER refuse BEFORE INSERT ON salesrecords_salesrecord FOR EACH ROW EXECUTE FUNCTION refuse()")
        else:
            cursor.execute("CREATE TRIGGER refuse BEFORE INSERT ON salesrecords_salesrecord BEGIN SELECT RAISE(ABORT, 'no room for records'); END")
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER refuse ON salesrecords_salesrecord" if connection.vendor == "postgresql" else "DROP TRIGGER refuse")


def test_a_job_the_database_refuses_is_failed_with_the_reason_not_left_queued(creator, refusing_database, django_capture_on_commit_callbacks):
    IndividualFactory.create_batch(3, state="FL")

    with django_capture_on_commit_callbacks(execute=True):  # the task runs eagerly, after commit
        job = mass_creation_job_create(actor=creator, criteria={"state": ["FL"]}, record_type=SalesRecordTypeFactory())

    job.refresh_from_db()
    assert job.status == Status.FAILED and job.finished_at is not None
    assert "no room for records" in job.reason
    assert not SalesRecord.objects.exists()
    assert AuditLog.objects.filter(action=AuditLog.Action.BULK, object_id=str(job.pk), summary__contains="failed").exists()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's LIKE pattern limit")
def test_a_search_sqlite_cannot_run_fails_the_job_with_the_reason(creator):
    IndividualFactory(nickname="Ada")
    job = MassCreationJobFactory(created_by=creator, criteria={"nickname": "x" * 100_000})

    mass_creation_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == Status.FAILED and job.reason  # a validation error or the database's own, never silence
    assert not SalesRecord.objects.exists()


def _held(job, *, lease_left: float, status=Status.RUNNING, tries=1):
    """The job as a worker left it: held under try ``tries``, its lease running out in ``lease_left`` seconds."""
    MassCreationJob.objects.filter(pk=job.pk).update(status=status, tries=tries, lease_until=timezone.now() + datetime.timedelta(seconds=lease_left))


def test_a_job_held_by_a_live_worker_is_left_to_it(creator):
    IndividualFactory.create_batch(3, state="GA")
    job = MassCreationJobFactory(created_by=creator, criteria={"state": ["GA"]})
    _held(job, lease_left=20)

    mass_creation_run(job_id=job.pk)  # a duplicate message

    job.refresh_from_db()
    assert (job.status, job.tries, job.processed) == (Status.RUNNING, 1, 0)
    assert not SalesRecord.objects.exists()
    assert mass_creation_jobs_sweep() == 0


def test_a_job_whose_lease_ran_out_is_queued_again_by_the_sweep_and_finished(creator, django_capture_on_commit_callbacks):
    IndividualFactory.create_batch(10, state="OH")
    job = MassCreationJobFactory(created_by=creator, criteria={"state": ["OH"]})
    mass_creation_run(job_id=job.pk, max_chunks=1, chunk_size=3)  # started...
    job.refresh_from_db()
    assert (job.status, job.processed, job.tries) == (Status.QUEUED, 3, 1)
    _held(job, lease_left=-1, tries=2)  # ...taken up again, and its worker died: the lease ran out

    with django_capture_on_commit_callbacks(execute=True):
        assert mass_creation_jobs_sweep() == 1

    job.refresh_from_db()
    assert (job.status, job.matched, job.created, job.tries) == (Status.SUCCEEDED, 10, 10, 3)
    assert job.reason == "" and job.lease_until is None
    assert SalesRecord.objects.filter(job=job).count() == 10


def test_the_sweep_leaves_held_and_young_queued_jobs_alone(creator):
    beating = MassCreationJobFactory(created_by=creator)
    _held(beating, lease_left=10)
    young = MassCreationJobFactory(created_by=creator)  # queued just now, waiting for a worker
    _held(young, lease_left=300, status=Status.QUEUED, tries=0)
    lost = MassCreationJobFactory(created_by=creator)
    _held(lost, lease_left=-1, status=Status.QUEUED, tries=0)  # nobody took its message

    assert mass_creation_jobs_sweep() == 1  # the lost message only
    assert mass_creation_jobs_sweep() == 0  # and once: its lease renewed
    lost.refresh_from_db()
    assert lost.status == Status.QUEUED and lost.lease_until > timezone.now()


def test_a_new_job_holds_a_queued_lease(creator, settings):
    IndividualFactory(state="FL")
    job = mass_creation_job_create(actor=creator, criteria={"state": ["FL"]}, record_type=SalesRecordTypeFactory())
    left = (job.lease_until - timezone.now()).total_seconds()
    assert settings.JOB_QUEUED_LEASE_SECONDS - 5 < left <= settings.JOB_QUEUED_LEASE_SECONDS


def test_the_sweep_runs_every_15_seconds():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="salesrecords.tasks.mass_creation_jobs_sweep_task")
    assert task.enabled and (task.interval.every, task.interval.period) == (15, "seconds")
