"""The benefits sync under faults, against the sandbox: a worker killed between the platform's write and our
record, and the platform's answers lost. Each time: no second account there, no update lost here, and the
attempt's history says what happened."""

from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from hrsync.models import Employee, SyncAttempt
from hrsync.services import employee_sync_request, employee_update, sync_attempt_run, sync_attempts_sweep
from integrations import attempts

from .factories import EmployeeFactory

pytestmark = pytest.mark.django_db
State, Status = Employee.SyncState, SyncAttempt.Status
DEMO_ACCOUNTS = 5  # the sandbox starts with these


class WorkerKilled(BaseException):
    """The worker process ends here (a kill, an out-of-memory): nothing after it runs, not even ``except Exception``."""


@pytest.fixture
def killed_before_recording(monkeypatch):
    """The next attempt to record its outcome dies instead, once, after its calls to the platform are done.
    Yields the (attempt, outcome) it was about to record: what the dead worker would write if it woke up."""
    record, lost = attempts.attempt_record, []

    def die(attempt, outcome):
        monkeypatch.setattr(attempts, "attempt_record", record)
        lost.append((attempt, outcome))
        raise WorkerKilled

    monkeypatch.setattr(attempts, "attempt_record", die)
    return lost


@pytest.fixture
def lost_answers(monkeypatch, settings):
    """While ``lost_answers.on``: every write reaches the benefits platform and is applied, but its answer comes
    after the client gave up (the sandbox's timeout knob, asked for on writes only). Reads are answered."""
    settings.INTEGRATIONS_RETRY_ATTEMPTS = 2  # each write sent twice per try, both answers lost
    send = requests.Session.request

    class Switch:
        on = True

    def request(session, method, url, *args, headers=None, **kwargs):
        if Switch.on and method.upper() != "GET" and "/benefits/v1/" in url:
            headers = {**(headers or {}), "X-Sandbox-Timeout-Rate": "1", "X-Sandbox-Hang-Seconds": "1.5"}
        return send(session, method, url, *args, headers=headers, **kwargs)

    monkeypatch.setattr(requests.Session, "request", request)
    return Switch


def falls_due(attempt: SyncAttempt) -> SyncAttempt | None:
    """The clock reaches the retrying attempt's next try, and its message arrives."""
    SyncAttempt.objects.filter(pk=attempt.pk).update(next_try_at=timezone.now())
    return sync_attempt_run(attempt_id=attempt.pk)


def test_a_worker_killed_after_the_platforms_write_is_finished_by_the_sweep_without_a_second_account(
    sandbox, agency_admin, settings, killed_before_recording, django_capture_on_commit_callbacks
):
    employee = EmployeeFactory(last_name="Before")
    with django_capture_on_commit_callbacks(execute=False):  # its message is run by hand below
        employee_sync_request(actor=agency_admin, employees=[employee.pk])
    attempt = employee.sync_attempts.get()

    # when: the worker creates the account on the platform, then dies before recording it here
    with pytest.raises(WorkerKilled):
        sync_attempt_run(attempt_id=attempt.pk)
    attempt.refresh_from_db()
    assert (attempt.status, attempt.tries) == (Status.RUNNING, 1)
    assert len(sandbox.accounts(employee.email)) == 1
    # ... and the employee is edited meanwhile (In progress: the change waits for the attempt)
    with django_capture_on_commit_callbacks(execute=True):
        employee_update(actor=agency_admin, employee=employee, data={"last_name": "After"})
    assert employee.sync_attempts.count() == 1

    # then: while its lease holds, nobody takes its work; once it ran out, the sweep queues the same attempt
    # again and its message runs it (eagerly, after the sweep's commit)
    assert sync_attempts_sweep() == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert sync_attempts_sweep(now=timezone.now() + timedelta(seconds=settings.HRSYNC_LEASE_SECONDS + 1)) == 1

    employee.refresh_from_db()
    attempt.refresh_from_db()
    accounts = sandbox.accounts(employee.email)
    assert len(accounts) == 1 and sandbox.stats()["accounts"] == DEMO_ACCOUNTS + 1  # 0 duplicates there
    assert accounts[0]["last_name"] == "After" and employee.benefits_account_id == accounts[0]["id"]
    assert employee.sync_state == State.SUCCESSFUL and employee.synced_version == employee.change_version  # 0 lost here
    assert (attempt.status, attempt.tries, attempt.version) == (Status.SUCCEEDED, 2, employee.change_version)
    assert attempt.reason.startswith("Done on try 2; before: Its worker stopped while running it (lease ran out")
    assert employee.sync_attempts.count() == 1

    # the dead worker, were it to wake up, can't write its stale outcome over the newer try's (the try count fences it)
    stale_attempt, stale_outcome = killed_before_recording[0]
    assert attempts.attempt_record(stale_attempt, stale_outcome) is None
    employee.refresh_from_db()
    attempt.refresh_from_db()
    assert (attempt.status, attempt.tries, employee.synced_version) == (Status.SUCCEEDED, 2, employee.change_version)


def test_lost_answers_are_retried_without_a_second_account_or_a_lost_update(sandbox, agency_admin, lost_answers, django_capture_on_commit_callbacks):
    employee = EmployeeFactory(last_name="First")

    # when: the create is applied on the platform but its answers are lost
    with django_capture_on_commit_callbacks(execute=True):
        employee_sync_request(actor=agency_admin, employees=[employee.pk])
    attempt = employee.sync_attempts.get()
    assert attempt.status == Status.RETRYING and attempt.action == SyncAttempt.Action.CREATE
    assert attempt.reason.startswith("Retrying: The benefits platform did not answer within 1 s")
    assert len(sandbox.accounts(employee.email)) == 1  # applied once, though sent twice
    # ... the employee is edited while it waits for its next try
    with django_capture_on_commit_callbacks(execute=True):
        employee_update(actor=agency_admin, employee=employee, data={"last_name": "Second"})
    # ... its next try finds the account by email and sends the edit, whose answers are lost too
    attempt = falls_due(attempt)
    assert (attempt.status, attempt.action) == (Status.RETRYING, SyncAttempt.Action.LINK)
    # ... the platform answers again
    lost_answers.on = False
    attempt = falls_due(attempt)

    employee.refresh_from_db()
    accounts = sandbox.accounts(employee.email)
    assert len(accounts) == 1 and accounts[0]["last_name"] == "Second"
    assert employee.sync_state == State.SUCCESSFUL and employee.synced_version == employee.change_version
    assert employee.benefits_account_id == accounts[0]["id"]
    assert (attempt.status, attempt.tries) == (Status.SUCCEEDED, 3)
    assert attempt.reason.startswith("Done on try 3; before: Retrying: The benefits platform did not answer")

    # when: a later change (an update by id) loses its answers, then is retried under the same key
    lost_answers.on = True
    with django_capture_on_commit_callbacks(execute=True):
        employee_update(actor=agency_admin, employee=employee, data={"last_name": "Third"})
    employee.refresh_from_db()
    attempt = employee.last_attempt
    assert (employee.sync_state, attempt.status, attempt.action) == (State.IN_PROGRESS, Status.RETRYING, SyncAttempt.Action.UPDATE)
    lost_answers.on = False
    falls_due(attempt)

    employee.refresh_from_db()
    accounts = sandbox.accounts(employee.email)
    assert len(accounts) == 1 and sandbox.stats()["accounts"] == DEMO_ACCOUNTS + 1  # 0 duplicates there
    assert accounts[0]["last_name"] == "Third"
    assert employee.sync_state == State.SUCCESSFUL and employee.synced_version == employee.change_version  # 0 lost here
    assert sandbox.stats()["calls"]["POST timeout"] >= 2 and sandbox.stats()["calls"]["PATCH timeout"] >= 4
