"""The HR -> benefits platform sync, against the sandbox over real HTTP (eager Celery)."""

import datetime
import threading
import time
from datetime import timedelta

import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from hrsync.models import Employee, SyncAttempt
from hrsync.services import employee_create, employee_sync_request, employee_update, sync_attempt_run, sync_attempts_sweep
from integrations.clients import benefits_platform_client

from .factories import BenefitsLevelFactory, EmployeeFactory, EmployerGroupFactory

pytestmark = pytest.mark.django_db
State = Employee.SyncState


@pytest.fixture
def sync(django_capture_on_commit_callbacks, agency_admin):
    """``sync(*employees)``: request a sync and run the queued tasks (eager), as after a commit."""

    def run(*employees):
        with django_capture_on_commit_callbacks(execute=True):
            result = employee_sync_request(actor=agency_admin, employees=[e.pk for e in employees])
        for e in employees:
            e.refresh_from_db()
        return result

    return run


def test_first_sync_links_an_existing_account_by_email(sandbox, sync):
    maria = EmployeeFactory(
        email="maria.gonzalez@northwind.example",
        first_name="Maria",
        last_name="Gonzalez",
        benefits_level__package_code="PREMIUM",
        benefits_level__name="Premium",
    )
    sync(maria)
    assert maria.sync_state == State.SUCCESSFUL
    assert maria.benefits_account_id == "ACC-0000001"
    attempt = maria.last_attempt
    assert (attempt.action, attempt.status) == (SyncAttempt.Action.LINK, SyncAttempt.Status.SUCCEEDED)
    # our HR data wins: the platform now has our package, and no second account was made
    assert sandbox.accounts(maria.email)[0]["benefits_package"] == "PREMIUM"
    assert sandbox.stats()["accounts"] == 5
    assert attempt.payload["date_of_birth"] == "****-**-**"


def test_first_sync_creates_an_account_then_later_changes_update_it_by_id(sandbox, django_capture_on_commit_callbacks, sync, agency_admin):
    employee = EmployeeFactory()
    sync(employee)
    assert employee.sync_state == State.SUCCESSFUL
    assert employee.last_attempt.action == SyncAttempt.Action.CREATE
    account_id = employee.benefits_account_id
    assert sandbox.accounts(employee.email)[0]["id"] == account_id

    # when: a change to a synced employee (it queues by itself, after commit)
    with django_capture_on_commit_callbacks(execute=True):
        employee_update(actor=agency_admin, employee=employee, data={"email": "renamed." + employee.email, "last_name": "Renamed"})
    employee.refresh_from_db()
    # then: the same account is updated through its id
    assert employee.sync_state == State.SUCCESSFUL
    assert employee.last_attempt.action == SyncAttempt.Action.UPDATE
    account = benefits_platform_client().get(account_id)
    assert (account["email"], account["last_name"]) == (employee.email, "Renamed")
    assert employee.sync_attempts.count() == 2


def test_a_new_starter_with_create_benefits_record_syncs_by_itself(sandbox, django_capture_on_commit_callbacks, agency_admin):
    group, level = EmployerGroupFactory(), BenefitsLevelFactory(name="Basic", package_code="BASIC")
    with django_capture_on_commit_callbacks(execute=True):
        employee = employee_create(
            actor=agency_admin,
            create_benefits_record=True,
            employer_group=group,
            first_name="Nia",
            last_name="Starter",
            email="nia.starter@client.example",
            date_of_birth=datetime.date(1999, 9, 9),
            hire_date=datetime.date.today(),
            benefits_level=level,
        )
        quiet = employee_create(actor=agency_admin, employer_group=group, first_name="Not", last_name="Yet", email="not.yet@client.example")
    employee.refresh_from_db()
    assert employee.sync_state == State.SUCCESSFUL
    assert sandbox.accounts("nia.starter@client.example")[0]["benefits_package"] == "BASIC"
    quiet.refresh_from_db()
    assert quiet.sync_state == State.NOT_SYNCING and not quiet.sync_attempts.exists()


def test_a_leaver_ends_coverage_on_the_platform(sandbox, sync, django_capture_on_commit_callbacks, agency_admin):
    employee = EmployeeFactory()
    sync(employee)
    with django_capture_on_commit_callbacks(execute=True):
        employee_update(actor=agency_admin, employee=employee, data={"leave_date": datetime.date(2025, 3, 31)})
    employee.refresh_from_db()
    assert employee.sync_state == State.SUCCESSFUL
    assert employee.last_attempt.action == SyncAttempt.Action.END_COVERAGE
    account = sandbox.accounts(employee.email)[0]
    assert (account["status"], account["coverage_end_date"]) == ("coverage_ended", "2025-03-31")


def test_an_email_used_by_another_account_fails_with_the_platforms_reason(sandbox, sync, django_capture_on_commit_callbacks, agency_admin):
    employee = EmployeeFactory()
    sync(employee)
    with django_capture_on_commit_callbacks(execute=True):
        employee_update(actor=agency_admin, employee=employee, data={"email": "james.chen@northwind.example"})
    employee.refresh_from_db()
    assert employee.sync_state == State.FAILED
    attempt = employee.last_attempt
    assert attempt.response_code == 409
    assert attempt.reason == (
        "The benefits platform refused the update: The email james.chen@northwind.example is already used by another account (ACC-0000002)."
    )


def test_presend_failures_make_no_call(sandbox, sync):
    no_dob = EmployeeFactory(date_of_birth=None, hire_date=None)
    unmapped = EmployeeFactory(benefits_level=BenefitsLevelFactory(name="Executive", package_code=""))
    calls_before = sandbox.stats()["calls"]

    result = sync(no_dob, unmapped)

    assert result.failed_before_sending == 2 and result.sent == 0
    assert no_dob.sync_state == unmapped.sync_state == State.FAILED
    assert no_dob.last_attempt.reason == "Not sent: Missing mandatory data: date of birth, hire date."
    assert unmapped.last_attempt.reason == ("Not sent: The benefits level 'Executive' has no mapping to a platform package: set its package.")
    assert sandbox.stats()["calls"] == calls_before


def test_retries_under_faults_never_make_a_second_account(sandbox, sync, settings):
    settings.INTEGRATIONS_READ_TIMEOUT, settings.INTEGRATIONS_RETRY_ATTEMPTS = 0.5, 10
    employees = EmployeeFactory.create_batch(10)
    sandbox.knobs(error_rate=0.3, timeout_rate=0.1, hang_seconds=1.0)

    sync(*employees)

    sandbox.knobs(error_rate=0, timeout_rate=0)
    assert {e.sync_state for e in employees} == {State.SUCCESSFUL}
    assert all(len(sandbox.accounts(e.email)) == 1 for e in employees)
    assert sandbox.stats()["accounts"] == 5 + 10
    assert sum(e.last_attempt.http_calls for e in employees) > 20  # faults were met and retried


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # see conftest.celery_worker_process
def test_the_sweep_runs_a_stopped_workers_attempt_again_under_the_same_keys(sandbox, agency_admin):
    employee = EmployeeFactory()
    # given: queued, claimed by a worker that created the account and then stopped
    attempt = SyncAttempt.objects.create(
        employee=employee, version=employee.change_version, tries=1, status=SyncAttempt.Status.RUNNING, started_at=timezone.now()
    )
    Employee.objects.filter(pk=employee.pk).update(sync_state=State.IN_PROGRESS, last_attempt=attempt)
    benefits_platform_client().create(
        {
            "email": employee.email,
            "first_name": "Dead",
            "last_name": "Worker",
            "date_of_birth": "1985-05-17",
            "hire_date": "2020-02-03",
            "benefits_package": "STANDARD",
        },
        idempotency_key=f"agencydesk-employee-{employee.uuid}-create",
    )
    SyncAttempt.objects.filter(pk=attempt.pk).update(lease_until=timezone.now() - timedelta(seconds=1))

    # when: the beat job runs (its message runs at once, eagerly, after the sweep's commit)
    assert sync_attempts_sweep() == 1

    # then: the same attempt, tried again, finished the work; still one account, now with our data
    employee.refresh_from_db()
    attempt.refresh_from_db()
    assert employee.sync_state == State.SUCCESSFUL and employee.last_attempt_id == attempt.pk
    assert (attempt.status, attempt.tries, employee.sync_attempts.count()) == (SyncAttempt.Status.SUCCEEDED, 2, 1)
    assert attempt.reason.startswith("Done on try 2; before: Its worker stopped while running it (lease ran out")
    accounts = sandbox.accounts(employee.email)
    assert len(accounts) == 1 and accounts[0]["last_name"] == employee.last_name
    # a late message for it does nothing
    assert sync_attempt_run(attempt_id=attempt.pk) is None


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # see conftest.celery_worker_process
def test_a_change_made_while_an_attempt_runs_is_not_lost(sandbox, agency_admin):
    employee = EmployeeFactory()
    sandbox.knobs(latency_ms=800)  # each call takes a while: the edit lands mid-attempt

    def edit():
        # (SQLite's shared in-memory test database answers "table is locked" instead of waiting)
        try:
            while True:
                try:
                    if SyncAttempt.objects.filter(status=SyncAttempt.Status.RUNNING).exists():
                        break
                except OperationalError:
                    pass
                time.sleep(0.02)
            time.sleep(0.2)  # past the attempt's read of the employee, inside its first call
            for _ in range(50):
                try:
                    employee_update(actor=agency_admin, employee=employee, data={"last_name": "Changed-Midway"})
                    return
                except OperationalError:
                    time.sleep(0.02)
        finally:
            connection.close()

    editor = threading.Thread(target=edit)
    editor.start()
    employee_sync_request(actor=agency_admin, employees=[employee.pk])  # eager: runs here, after commit
    editor.join()

    employee.refresh_from_db()
    assert employee.sync_state == State.SUCCESSFUL
    assert employee.sync_attempts.count() == 2
    assert sandbox.accounts(employee.email)[0]["last_name"] == "Changed-Midway"
    assert employee.synced_version == employee.change_version


def test_the_lease_sweep_is_scheduled_in_beat():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="hrsync.tasks.sync_attempts_sweep_task")
    assert task.enabled and (task.interval.every, task.interval.period) == (1, "minutes")


def test_an_attempt_reads_and_writes_the_database_a_fixed_number_of_times(sandbox, agency_admin, django_assert_num_queries):
    employee = EmployeeFactory()
    employee_sync_request(actor=agency_admin, employees=[employee.pk])  # queued (its task would run after commit)
    attempt_id = employee.sync_attempts.get().pk
    # Claim and read (one transaction: the UPDATE, then the SELECT of the attempt with its employee, level and
    # group), then settle (one transaction: the attempt, then the employee), whatever the attempt sends; on
    # PostgreSQL each transaction also says not to wait for the disk. In a test the two transactions are
    # savepoints: 4 statements more.
    postgres = connection.vendor == "postgresql"
    with django_assert_num_queries(4 + 2 * postgres + 4):
        attempt = sync_attempt_run(attempt_id=attempt_id)
    assert attempt.status == SyncAttempt.Status.SUCCEEDED
    assert len(sandbox.accounts(employee.email)) == 1
