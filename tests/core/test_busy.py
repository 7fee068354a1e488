"""Locked means "try again", never 500: a write whose lock wait ran out is answered 503 with Retry-After
(the API in JSON, the admin with a "busy, try again" page), and a task that met it runs again later."""

import contextlib
import sqlite3

import psycopg
import pytest
from django.db import OperationalError, connection
from django.urls import reverse

from config.celery import BUSY_MAX_RETRIES, BusyRetryingTask
from core.busy import is_busy
from individuals.models import Individual
from tests.individuals.factories import IndividualFactory


@pytest.fixture
def write_lock(django_db_serialized_rollback, transactional_db):
    """``with write_lock():`` a second connection holds a write lock on the individuals table, as a worker's long
    chunk would (SQLite: a write transaction; PostgreSQL: ``LOCK TABLE ... IN EXCLUSIVE MODE``, reads go on);
    this thread's connection gives up waiting after 0.2 s (SQLite's busy timeout, PostgreSQL's lock_timeout)."""

    @contextlib.contextmanager
    def hold():
        connection.ensure_connection()
        settings = connection.settings_dict
        if connection.vendor == "sqlite":
            other = sqlite3.connect(settings["NAME"], uri=settings["NAME"].startswith("file:"), isolation_level=None)
            wait, restore = "PRAGMA busy_timeout = 200", f"PRAGMA busy_timeout = {int(settings['OPTIONS'].get('timeout', 5) * 1000)}"
            other.execute("BEGIN IMMEDIATE")
            other.execute("UPDATE individuals_individual SET first_name = first_name")
        else:
            other = psycopg.connect(
                dbname=settings["NAME"],
                user=settings["USER"],
                host=settings["HOST"] or "127.0.0.1",
                port=settings["PORT"] or 5432,
                password=settings["PASSWORD"] or None,
            )
            wait, restore = "SET lock_timeout = 200", "RESET lock_timeout"
            other.execute("LOCK TABLE individuals_individual IN EXCLUSIVE MODE")
        with connection.cursor() as cursor:
            cursor.execute(wait)
        try:
            yield
        finally:
            if connection.vendor == "sqlite":
                other.execute("ROLLBACK")
            else:
                other.rollback()
            other.close()
            with connection.cursor() as cursor:
                cursor.execute(restore)

    return hold


def test_an_api_edit_meeting_a_held_write_lock_is_answered_503_with_retry_after(write_lock, api):
    person = IndividualFactory(first_name="Ada")
    with write_lock():
        response = api.patch(f"/api/individuals/{person.pk}/", {"first_name": "Grace"}, format="json")
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == "5"
    assert "busy" in response.json()["detail"] and "again" in response.json()["detail"]
    assert Individual.objects.get(pk=person.pk).first_name == "Ada"  # nothing of the refused edit was saved
    assert api.patch(f"/api/individuals/{person.pk}/", {"first_name": "Grace"}, format="json").status_code == 200


def test_an_admin_write_meeting_a_held_write_lock_shows_the_busy_page(write_lock, client, agency_admin):
    person = IndividualFactory(first_name="Ada")
    client.force_login(agency_admin)
    with write_lock():
        response = client.post(reverse("admin:individuals_individual_delete", args=[person.pk]), {"post": "yes"})
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    html = response.content.decode()
    assert "busy, try again" in html and "nothing was saved" in html
    assert Individual.objects.filter(pk=person.pk).exists()


def test_a_lock_timeout_raised_in_a_service_is_a_503_not_a_500(api, monkeypatch):
    """Both databases' words for it, raised where the service writes (a test-only stand-in for the lock)."""
    person = IndividualFactory()
    for error in (
        OperationalError("database is locked"),
        psycopg.errors.LockNotAvailable("canceling statement due to lock timeout"),
        psycopg.errors.SerializationFailure("could not serialize access"),
        psycopg.errors.DeadlockDetected("deadlock"),
    ):

        def locked(*args, error=error, **kwargs):
            raise error

        monkeypatch.setattr(Individual, "save", locked)
        response = api.patch(f"/api/individuals/{person.pk}/", {"first_name": "Grace"}, format="json")
        assert (response.status_code, response["Retry-After"]) == (503, "5"), error


def test_only_lock_waits_count_as_busy():
    wrapped = OperationalError("database is locked")
    wrapped.__cause__ = sqlite3.OperationalError("database is locked")
    assert is_busy(wrapped) and is_busy(sqlite3.OperationalError("database table is locked: individuals_individual"))
    assert is_busy(psycopg.errors.LockNotAvailable()) and is_busy(psycopg.errors.SerializationFailure())
    assert not is_busy(OperationalError("no such table: individuals_individual"))
    assert not is_busy(psycopg.errors.UniqueViolation()) and not is_busy(ValueError("database is locked"))


def test_a_task_that_met_a_busy_database_is_sent_again_later(monkeypatch):
    from celery.exceptions import Retry

    from config.celery import app

    @app.task(bind=True, name="tests.core.test_busy.locked_task")
    def locked_task(self):
        raise OperationalError("database is locked")

    sent = {}

    def retry(self, *, exc, countdown, max_retries, **kwargs):
        sent.update(countdown=countdown, max_retries=max_retries)
        return Retry(exc=exc, when=countdown)

    monkeypatch.setattr(BusyRetryingTask, "retry", retry)
    locked_task.push_request(is_eager=False, called_directly=False, retries=1, id="t-1")
    try:
        with pytest.raises(Retry):
            locked_task()
    finally:
        locked_task.pop_request()
    assert sent == {"countdown": 20, "max_retries": BUSY_MAX_RETRIES}
    with pytest.raises(OperationalError):  # eagerly (in a request or a test) the caller gets the error itself
        locked_task.apply(throw=True).get()


# --- a job's chunk is written again (core.busy.busy_retried) ------------------------------------------


def test_a_chunk_meeting_a_busy_database_is_written_again_after_a_short_growing_pause(monkeypatch):
    from core import busy

    pauses, calls = [], []
    monkeypatch.setattr(busy.time, "sleep", pauses.append)

    def chunk():
        calls.append(1)
        if len(calls) < 3:
            raise OperationalError("database is locked")
        return "written"

    monkeypatch.setattr(busy.connection, "in_atomic_block", False)  # as a worker runs it: no outer transaction
    assert busy.busy_retried(chunk, what="a chunk") == "written"
    assert len(calls) == 3 and len(pauses) == 2 and pauses[0] < pauses[1] <= 2 * busy.CHUNK_FIRST_WAIT_SECONDS * 1.25

    calls.clear()
    with pytest.raises(OperationalError):  # bounded: after its last try the busy error is the caller's
        busy.busy_retried(lambda: chunk() if len(calls) < 99 else None, what="a chunk", tries=2)
    assert len(calls) == 2
    with pytest.raises(ValueError):  # anything else is raised at once
        busy.busy_retried(lambda: calls.append(1) or int("x"), what="a chunk")


def test_inside_an_outer_transaction_the_chunk_runs_once(db, monkeypatch):
    from core import busy

    calls = []

    def chunk():
        calls.append(1)
        raise OperationalError("database is locked")

    with pytest.raises(OperationalError):
        busy.busy_retried(chunk, what="a chunk")
    assert calls == [1]


def test_a_mass_creation_whose_chunk_meets_a_held_lock_finishes_with_exact_counts(write_lock, make_user, monkeypatch, settings):
    """A second connection holds the write lock when the first chunk starts, and lets go during the pause:
    the chunk is written again and the job succeeds with its counts (before: the job failed)."""
    if connection.vendor != "sqlite":
        pytest.skip("write_lock locks individuals on PostgreSQL, which a chunk only reads; SQLite's lock is the whole database")
    from accounts.rights import Level
    from core import busy
    from salesrecords.models import MassCreationJob
    from salesrecords.services import mass_create
    from tests.salesrecords.factories import SalesRecordTypeFactory

    settings.SALESRECORDS_CHUNK_SIZE = 4
    IndividualFactory.create_batch(10, state="FL")
    job = MassCreationJob.objects.create(
        created_by=make_user(individuals=Level.EDIT, sales=Level.EDIT), criteria={"state": ["FL"]}, record_type=SalesRecordTypeFactory()
    )
    held, chunk = contextlib.ExitStack(), mass_create._chunk

    def first_chunk_locked(job, **context):
        if not held._exit_callbacks and not getattr(first_chunk_locked, "done", False):
            first_chunk_locked.done = True
            held.enter_context(write_lock())
        return chunk(job, **context)

    monkeypatch.setattr(mass_create, "_chunk", first_chunk_locked)
    monkeypatch.setattr(busy.time, "sleep", lambda seconds: held.close())  # the other writer commits meanwhile
    job = mass_create.mass_creation_run(job_id=job.pk)
    assert (job.status, job.created, job.processed) == ("succeeded", 10, 10), job.reason
    assert first_chunk_locked.done
