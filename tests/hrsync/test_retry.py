"""An outage is not a verdict: transient faults are tried again later over a window, then fail with the reason."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from hrsync.models import Employee, SyncAttempt
from hrsync.services import employee_sync_request
from hrsync.tasks import sync_attempt_run_task
from integrations.http import RetryPolicy

from .factories import EmployeeFactory

State, Status = Employee.SyncState, SyncAttempt.Status


@pytest.fixture
def sync(django_capture_on_commit_callbacks, agency_admin, settings):
    """``sync(employee)``: request a sync and run its task (eager), as after a commit; quick in-call retries."""
    settings.INTEGRATIONS_RETRY_ATTEMPTS = 2

    def run(employee):
        with django_capture_on_commit_callbacks(execute=True):
            employee_sync_request(actor=agency_admin, employees=[employee.pk])
        employee.refresh_from_db()
        return employee.last_attempt

    return run


def falls_due(attempt, *, failing_for=timedelta(0), django_capture_on_commit_callbacks):
    """The clock reaches the attempt's next try (``failing_for`` after its first failure); its message arrives."""
    now = timezone.now()
    SyncAttempt.objects.filter(pk=attempt.pk).update(next_try_at=now, retrying_since=now - failing_for)
    with django_capture_on_commit_callbacks(execute=True):
        sync_attempt_run_task.delay(attempt.pk)
    attempt.refresh_from_db()
    attempt.employee.refresh_from_db()
    return attempt


@pytest.mark.django_db
def test_during_an_outage_the_employee_stays_in_progress_and_syncs_when_the_platform_recovers(sandbox, sync, django_capture_on_commit_callbacks):
    employee = EmployeeFactory()
    sandbox.knobs(error_rate=1.0)  # the platform answers 500 to everything

    attempt = sync(employee)

    assert employee.sync_state == State.IN_PROGRESS
    assert attempt.status == Status.RETRYING and attempt.next_try_at > timezone.now()
    assert attempt.reason.startswith("Retrying: The benefits platform answered 500")
    assert "next try at" in attempt.reason
    # a message arriving before its time does nothing
    with django_capture_on_commit_callbacks(execute=True):
        sync_attempt_run_task.delay(attempt.pk)
    attempt.refresh_from_db()
    assert (attempt.status, attempt.tries) == (Status.RETRYING, 1)

    # still down at the next try: retrying again, later
    first_next = attempt.next_try_at
    attempt = falls_due(attempt, failing_for=timedelta(minutes=2), django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    assert attempt.status == Status.RETRYING and attempt.next_try_at > first_next and attempt.tries == 2

    sandbox.knobs(error_rate=0)
    attempt = falls_due(attempt, failing_for=timedelta(minutes=3), django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)

    assert attempt.employee.sync_state == State.SUCCESSFUL
    assert (attempt.status, attempt.tries) == (Status.SUCCEEDED, 3)
    assert attempt.reason.startswith("Done on try 3; before: Retrying: The benefits platform answered 500")
    assert employee.sync_attempts.count() == 1  # one attempt in the history, tried three times
    assert len(sandbox.accounts(employee.email)) == 1  # never a second account


@pytest.mark.django_db
def test_past_the_window_the_sync_fails_with_the_reason(sandbox, sync, settings, django_capture_on_commit_callbacks):
    settings.INTEGRATIONS_RETRY_WINDOW_SECONDS = 30 * 60
    employee = EmployeeFactory()
    sandbox.knobs(error_rate=1.0)
    attempt = sync(employee)

    attempt = falls_due(attempt, failing_for=timedelta(minutes=31), django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)

    assert attempt.employee.sync_state == State.FAILED
    assert attempt.status == Status.FAILED and attempt.next_try_at is None
    assert attempt.reason.startswith("The benefits platform was unavailable for 31 minutes (2 tries): The benefits platform answered 500")
    sandbox.knobs(error_rate=0)
    assert len(sandbox.accounts(employee.email)) <= 1  # whatever the outage let through, at most one account


def test_the_retry_policy_backs_off_within_the_window_and_ends_at_it():
    policy = RetryPolicy(window=1800, later_backoff=10, later_max_backoff=300)
    since = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    waits = [(policy.next_try(tries=n, since=since, now=since) - since).total_seconds() for n in range(1, 9)]
    assert 5 <= waits[0] <= 10 and 10 <= waits[1] <= 20 and 20 <= waits[2] <= 40
    assert all(150 <= w <= 300 for w in waits[5:])  # capped
    near_end = since + timedelta(seconds=1790)
    assert policy.next_try(tries=9, since=since, now=near_end) == since + timedelta(seconds=1800)  # a last try at the end
    assert policy.next_try(tries=10, since=since, now=since + timedelta(seconds=1800)) is None
    # a Retry-After longer than the backoff is honoured
    assert (policy.next_try(tries=1, since=since, now=since, retry_after=120) - since).total_seconds() == 120


@pytest.fixture
def quick_retries(monkeypatch):
    """Worker processes started after this try again after about a second."""
    monkeypatch.setenv("INTEGRATIONS_RETRY_LATER_SECONDS", "1")
    monkeypatch.setenv("INTEGRATIONS_RETRY_ATTEMPTS", "2")


@pytest.mark.worker
def test_a_real_worker_reschedules_through_an_outage_without_sleeping(quick_retries, sandbox, celery_worker_process, agency_admin, settings):
    settings.INTEGRATIONS_RETRY_ATTEMPTS = 2
    employee = EmployeeFactory()
    sandbox.knobs(error_rate=1.0)
    employee_sync_request(actor=agency_admin, employees=[employee.pk])

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        attempt = SyncAttempt.objects.get(employee=employee)
        if attempt.tries >= 2 and attempt.reason.startswith("Retrying:"):
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"no retry scheduled: {attempt.status} {attempt.reason!r}")
    assert Employee.objects.get(pk=employee.pk).sync_state == State.IN_PROGRESS

    sandbox.knobs(error_rate=0)
    while time.monotonic() < deadline + 30:
        employee.refresh_from_db()
        if employee.sync_state != State.IN_PROGRESS:
            break
        time.sleep(0.2)
    assert employee.sync_state == State.SUCCESSFUL
    assert SyncAttempt.objects.filter(employee=employee).count() == 1
    assert len(sandbox.accounts(employee.email)) == 1
