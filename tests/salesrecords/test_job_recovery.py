"""A job never sits silently: errors fail it with the reason; a dead runner's job is resumed by the sweep."""
import datetime

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import AuditLog
from accounts.rights import Level
from salesrecords.models import MassCreationJob, SalesRecord
from salesrecords.services import mass_creation_job_create, mass_creation_resume_stuck, mass_creation_run
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
            cursor.execute("CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'no room for records'; "
                           "END $$ LANGUAGE plpgsql")
            cursor.execute("CREATE TRIGGER refuse BEFORE INSERT ON salesrecords_salesrecord "
                           "FOR EACH ROW EXECUTE FUNCTION refuse()")
        else:
            cursor.execute("CREATE TRIGGER refuse BEFORE INSERT ON salesrecords_salesrecord "
                           "BEGIN SELECT RAISE(ABORT, 'no room for records'); END")
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER refuse ON salesrecords_salesrecord" if connection.vendor == "postgresql"
                       else "DROP TRIGGER refuse")


def test_a_job_the_database_refuses_is_failed_with_the_reason_not_left_queued(
        creator, refusing_database, django_capture_on_commit_callbacks):
    IndividualFactory.create_batch(3, state="FL")

    with django_capture_on_commit_callbacks(execute=True):  # the task runs eagerly, after commit
        job = mass_creation_job_create(actor=creator, criteria={"state": ["FL"]}, record_type=SalesRecordTypeFactory())

    job.refresh_from_db()
    assert job.status == Status.FAILED and job.finished_at is not None
    assert "no room for records" in job.error
    assert not SalesRecord.objects.exists()
    assert AuditLog.objects.filter(action=AuditLog.Action.BULK, object_id=str(job.pk), summary__contains="failed").exists()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's LIKE pattern limit")
def test_a_search_sqlite_cannot_run_fails_the_job_with_the_reason(creator):
    IndividualFactory(nickname="Ada")
    job = MassCreationJobFactory(created_by=creator, criteria={"nickname": "x" * 100_000})

    mass_creation_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == Status.FAILED and job.error  # a validation error or the database's own, never silence
    assert not SalesRecord.objects.exists()


def _claimed(job, *, runner="host:1:dead", seconds_ago=0, status=Status.RUNNING):
    """The job as a runner left it: claimed, last heartbeat ``seconds_ago``."""
    MassCreationJob.objects.filter(pk=job.pk).update(
        runner=runner, heartbeat_at=timezone.now() - datetime.timedelta(seconds=seconds_ago), status=status)


def test_a_job_held_by_a_live_runner_is_left_to_it(creator):
    IndividualFactory.create_batch(3, state="GA")
    job = MassCreationJobFactory(created_by=creator, criteria={"state": ["GA"]})
    _claimed(job, runner="host:1:alive", seconds_ago=1, status=Status.QUEUED)

    mass_creation_run(job_id=job.pk)  # a duplicate message

    job.refresh_from_db()
    assert (job.status, job.runner, job.processed) == (Status.QUEUED, "host:1:alive", 0)
    assert not SalesRecord.objects.exists()
    assert mass_creation_resume_stuck() == 0


def test_a_job_whose_runner_stopped_beating_is_enqueued_by_the_sweep_and_finished(
        creator, settings, django_capture_on_commit_callbacks):
    settings.SALESRECORDS_HEARTBEAT_SECONDS = 30
    IndividualFactory.create_batch(10, state="OH")
    job = MassCreationJobFactory(created_by=creator, criteria={"state": ["OH"]})
    mass_creation_run(job_id=job.pk, max_chunks=1, chunk_size=3)  # started...
    _claimed(job, seconds_ago=31)  # ...and its worker died 31 s ago

    with django_capture_on_commit_callbacks(execute=True):
        assert mass_creation_resume_stuck() == 1

    job.refresh_from_db()
    assert (job.status, job.matched, job.created) == (Status.DONE, 10, 10)
    assert job.runner not in ("", "host:1:dead")
    assert SalesRecord.objects.filter(job=job).count() == 10


def test_the_sweep_leaves_fresh_heartbeats_and_young_queued_jobs_alone(creator, settings):
    settings.SALESRECORDS_HEARTBEAT_SECONDS, settings.SALESRECORDS_QUEUED_SECONDS = 30, 600
    beating = MassCreationJobFactory(created_by=creator)
    _claimed(beating, seconds_ago=20)
    MassCreationJobFactory(created_by=creator)  # queued just now, waiting for a worker
    lost = MassCreationJobFactory(created_by=creator)
    MassCreationJob.objects.filter(pk=lost.pk).update(created_at=timezone.now() - datetime.timedelta(seconds=601))

    assert mass_creation_resume_stuck() == 1  # the lost message only
    assert mass_creation_resume_stuck() == 0  # and once: its clock restarted
    lost.refresh_from_db()
    assert lost.status == Status.QUEUED and lost.heartbeat_at is not None


def test_the_sweep_runs_every_15_seconds():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="salesrecords.tasks.mass_creation_resume_stuck_task")
    assert task.enabled and (task.interval.every, task.interval.period) == (15, "seconds")
