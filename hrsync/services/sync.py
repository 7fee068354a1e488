"""The sync queue: request, run and recover attempts to bring employees onto the benefits platform.

Built on the sync engine (``integrations.attempts``, ``core.jobs``): an attempt is a ``SyncAttempt`` row,
queued in the transaction that asked for it and enqueued after commit, claimed by ``job_claim``, sent
outside any transaction, and settled in one short transaction only while its worker still holds it.
What is hrsync's own:

- States (``Employee.sync_state``, the tabs people see): Not syncing -> In progress -> Successful |
  Failed, and back to In progress on every later change. One attempt at a time per employee.
- What is sent (``mapping.platform_account``), and what is refused before sending (``presend_problems``:
  missing mandatory data, no package mapping): Failed at once, no call, listed *Awaiting a person*.
- Idempotency: every write carries a key derived from the employee's uuid (create: one key for the
  employee's whole life; update / end coverage: one key per change version), so a retry, a
  duplicated task or a re-run after a lease never makes a second account nor applies a change twice.
- Concurrent change: an edit during a running attempt bumps ``change_version``; the attempt, when it
  settles, sees a newer version and queues a new attempt for it instead of settling the employee.

The engine's own: an outage retries the attempt later (status retrying, the employee still In progress,
"Retrying: <reason>, next try at <time>") over ``INTEGRATIONS_RETRY_WINDOW_SECONDS``, then fails it; a
worker that dies leaves its attempt running past ``HRSYNC_LEASE_SECONDS``, and the sweep
(``sync_attempts_sweep``) queues the same row again: the next try sends under the same keys, and the
try count keeps the dead worker from writing over it.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import AuditLog, User
from accounts.services import audit
from core.db import commit_without_waiting_for_disk, update_where
from core.jobs import Status, job_claim, jobs_sweep, on_commit_enqueue
from integrations import attempts
from integrations.clients import benefits_platform_client
from integrations.http import AuthError, IntegrationError, NotFoundError, RejectedError, TransientError

from ..mapping import changes_for, masked, platform_account, presend_problems, presend_reason
from ..models import Employee, SyncAttempt

Action, State = SyncAttempt.Action, Employee.SyncState
CHUNK = 500
SYSTEM = "benefits platform"
# What a worker claims: the attempt with its employee, level and group, read in the claim.
CLAIMABLE = SyncAttempt.objects.select_related("employee__benefits_level", "employee__employer_group")


def _queued_lease(now: datetime) -> datetime:
    # A queued attempt may wait behind thousands of others: its lease only covers a lost message.
    return now + timedelta(seconds=settings.HRSYNC_QUEUED_LEASE_SECONDS)


def _redoable() -> None:
    """The running attempt's own writes (claim, settle) commit without waiting for the disk.

    Each is redone if a PostgreSQL crash undoes it: the attempt is left queued or running, its lease
    runs out, and the sweep queues it again to send under the same idempotency keys. What a person
    asked for (the request, an edit) still waits for the disk. Each attempt made two such flushes,
    the sync's main wait once the workers ran many at a time.
    """
    commit_without_waiting_for_disk()


def _task():
    from ..tasks import sync_attempt_run_task

    return sync_attempt_run_task


@dataclass
class SyncRequestResult:
    sent: int = 0
    failed_before_sending: int = 0
    already_in_progress: int = 0

    def as_dict(self) -> dict:
        return {"sent": self.sent, "failed_before_sending": self.failed_before_sending, "already_in_progress": self.already_in_progress}

    def __str__(self):
        parts = [f"{self.sent} employee{'s' * (self.sent != 1)} sent to the benefits platform"]
        if self.failed_before_sending:
            parts.append(f"{self.failed_before_sending} failed before sending (see the Failed tab)")
        if self.already_in_progress:
            parts.append(f"{self.already_in_progress} already in progress")
        return "; ".join(parts) + "."


def employee_sync_request(*, actor: User | None, employees: QuerySet | list[int], audited: bool = True) -> SyncRequestResult:
    """Queue one attempt per employee (those already In progress are left to their attempt).

    An employee the platform would refuse (missing mandatory data, no package mapping) gets a
    Failed attempt with the reason at once, and no call is made. Tasks are enqueued after commit.
    ``CHUNK`` employees at a time, each chunk one short transaction of its own (inside a caller's
    transaction, a savepoint of it): a request for a whole large group never holds the write lock long.
    """
    qs = employees if isinstance(employees, QuerySet) else Employee.objects.filter(pk__in=list(employees))
    ids = sorted(qs.order_by().values_list("pk", flat=True))
    result, now = SyncRequestResult(), timezone.now()
    for start in range(0, len(ids), CHUNK):
        with transaction.atomic():
            rows = (
                Employee.objects.select_for_update(of=("self",))
                .select_related("benefits_level", "employer_group")
                .filter(pk__in=ids[start : start + CHUNK])
                .order_by("pk")
            )
            batch = []
            for employee in rows:
                if employee.sync_state == State.IN_PROGRESS:
                    result.already_in_progress += 1
                    continue
                problems = presend_problems(employee)
                attempt = SyncAttempt(employee=employee, version=employee.change_version, requested_by=actor)
                if problems:
                    attempt.status, attempt.reason, attempt.started_at, attempt.finished_at = Status.FAILED, presend_reason(problems), now, now
                    employee.sync_state = State.FAILED
                    result.failed_before_sending += 1
                else:
                    attempt.status, attempt.lease_until = Status.QUEUED, _queued_lease(now)
                    employee.sync_state = State.IN_PROGRESS
                    result.sent += 1
                batch.append(attempt)
            SyncAttempt.objects.bulk_create(batch)
            for attempt in batch:
                attempt.employee.last_attempt = attempt
            Employee.objects.bulk_update([a.employee for a in batch], ["sync_state", "last_attempt"], batch_size=CHUNK)
            on_commit_enqueue(_task(), [a.pk for a in batch if a.status == Status.QUEUED])
    if audited and ids:
        audit(
            actor=actor,
            action=AuditLog.Action.SYNC,
            model=Employee,
            object_repr=f"{len(ids)} employees",
            summary=f"Sync requested: {result}",
            data=result.as_dict(),
        )
    return result


@dataclass
class _Sent:
    """What a try did on the platform, as the attempt's history keeps it."""

    payload: dict
    action: str = ""
    account_id: str = ""
    note: str = ""
    written: dict = field(default_factory=dict)  # what was sent (payload: what would be)

    def fields(self, attempt: SyncAttempt, *, version: int, code: int | None, calls: int) -> dict:
        return {
            "version": version,
            "action": self.action,
            "payload": masked(self.written or self.payload),
            "response_code": code,
            "account_id": self.account_id,
            "http_calls": attempt.http_calls + calls,
        }


ACTION_WORDS = {Action.LINK: "link", Action.CREATE: "new account", Action.UPDATE: "update", Action.END_COVERAGE: "end of coverage"}


def sync_attempt_run(*, attempt_id: int) -> SyncAttempt | None:
    """Run one queued (or due retrying) attempt against the platform and settle it; None if it was not
    claimable (a duplicate or early message, finished already) or its lease was lost meanwhile.

    Never raises for the platform's answers: a refusal becomes a Failed attempt with a reason a person
    can act on, an outage a retry later (Failed once the window is over). Calls happen outside any
    transaction; the outcome and the employee's state are written in one short transaction, only if
    this worker still holds the attempt (``integrations.attempts.attempt_record``).
    """
    with transaction.atomic():
        _redoable()
        attempt = job_claim(CLAIMABLE, attempt_id, lease_seconds=settings.HRSYNC_LEASE_SECONDS)
    if attempt is None:
        return None
    employee = attempt.employee
    version = employee.change_version
    problems = presend_problems(employee)
    if problems:
        return attempts.attempt_record(attempt, _outcome(attempt, ok=False, version=version, sent=_Sent(payload={}), reason=presend_reason(problems)))
    client = benefits_platform_client()
    sent = _Sent(payload=platform_account(employee))
    try:
        _send(client, employee, version, sent)
    except TransientError as exc:
        return attempts.attempt_retry_later(
            attempt,
            error=exc,
            system=SYSTEM,
            lease_seconds=settings.HRSYNC_LEASE_SECONDS,
            task=_task(),
            record=_settle(ok=False, version=version, account_id=sent.account_id),
            **sent.fields(attempt, version=version, code=exc.status, calls=client.calls),
        )
    except RejectedError as exc:
        outcome = _outcome(attempt, ok=False, version=version, sent=sent, code=exc.status, calls=client.calls, reason=_refusal(employee, sent, exc))
    except IntegrationError as exc:
        outcome = _outcome(attempt, ok=False, version=version, sent=sent, code=exc.status, calls=client.calls, reason=exc.message)
    else:
        outcome = _outcome(
            attempt, ok=True, version=version, sent=sent, code=client.last_status, calls=client.calls, reason=_after_earlier_tries(attempt, sent.note)
        )
    return attempts.attempt_record(attempt, outcome)


def _send(client, employee: Employee, version: int, sent: _Sent) -> None:
    key = f"agencydesk-employee-{employee.uuid}"
    wanted = sent.payload
    account_id = employee.benefits_account_id
    if not account_id:
        sent.action = Action.LINK
        account = client.find_by_email(employee.email)
        if account:
            other = Employee.objects.filter(benefits_account_id=account["id"]).exclude(pk=employee.pk).select_related("employer_group").first()
            if other:
                raise RejectedError(
                    f"its account {account['id']} for {employee.email} is already linked to {other} "
                    f"of {other.employer_group}: give this employee another email."
                )
        elif employee.leave_date:
            sent.action, sent.note = Action.END_COVERAGE, "Left before having a platform account: nothing to end."
            return
        else:
            sent.action, sent.written = Action.CREATE, wanted
            account = client.create(wanted, idempotency_key=f"{key}-create")
        sent.account_id = account_id = account["id"]
        changes = changes_for(account, wanted)
        if changes:  # a linked account holding other data, or a replayed create of older data
            sent.written = {**sent.written, **changes}
            account = client.update(account_id, changes, idempotency_key=f"{key}-v{version}-update")
    else:
        sent.action, sent.account_id, sent.written = Action.UPDATE, account_id, wanted
        account = client.update(account_id, wanted, idempotency_key=f"{key}-v{version}-update")
    if employee.leave_date:
        end = employee.leave_date.isoformat()
        if account.get("status") != "coverage_ended" or account.get("coverage_end_date") != end:
            sent.action = Action.END_COVERAGE
            sent.written = {**sent.written, "coverage_end_date": end}
            client.end_coverage(account_id, end, idempotency_key=f"{key}-v{version}-end")


def _refusal(employee: Employee, sent: _Sent, exc: RejectedError) -> str:
    if isinstance(exc, AuthError):
        return f"{exc.message} Check the BENEFITS_PLATFORM_API_KEY setting."
    if isinstance(exc, NotFoundError) and sent.action == Action.UPDATE:
        return (
            f"The linked account {employee.benefits_account_id} no longer exists on the benefits platform: "
            "clear the employee's benefits account to link or create again."
        )
    return f"The benefits platform refused the {ACTION_WORDS.get(sent.action, 'sync')}: {exc.message}"


def _after_earlier_tries(attempt: SyncAttempt, note: str) -> str:
    """A success's reason: its note, and why it took more than one try (the sweep's or the retry's words)."""
    if attempt.tries > 1 and attempt.reason:
        return " ".join(filter(None, [note, f"Done on try {attempt.tries}; before: {attempt.reason}"]))
    return note


def _outcome(
    attempt: SyncAttempt, *, ok: bool, version: int, sent: _Sent, reason: str = "", code: int | None = None, calls: int = 0
) -> attempts.Outcome:
    return attempts.Outcome(
        Status.SUCCEEDED if ok else Status.FAILED,
        reason,
        sent.fields(attempt, version=version, code=code, calls=calls),
        _settle(ok=ok, version=version, account_id=sent.account_id),
    )


def _settle(*, ok: bool, version: int, account_id: str):
    """The employee's side of a settled attempt, written in the settling transaction (``Outcome.record``)."""

    def record(attempt: SyncAttempt) -> None:
        _redoable()
        updates: dict = {"last_attempt": attempt.pk, "sync_state": State.SUCCESSFUL if ok else State.FAILED}
        if ok:
            updates.update(synced_version=version, **({"benefits_account_id": account_id} if account_id else {}))
        # Settle only if nothing changed since we read the employee (one conditional UPDATE, no lock).
        if update_where(Employee, updates, id=attempt.employee_id, change_version=version):
            return
        # Changed while we were sending: record what the platform now holds, then send the newer data.
        employee = Employee.objects.select_for_update().filter(pk=attempt.employee_id).first()
        if employee is None:
            return  # deleted meanwhile
        newer = SyncAttempt.objects.create(
            employee=employee, version=employee.change_version, status=Status.QUEUED, lease_until=_queued_lease(timezone.now())
        )
        updates.update(sync_state=State.IN_PROGRESS, last_attempt=newer.pk)
        Employee.objects.filter(pk=employee.pk).update(**updates)
        on_commit_enqueue(_task(), [newer.pk])

    return record


def sync_attempts_sweep(*, now: datetime | None = None) -> int:
    """Beat: queue again every attempt nobody holds (``core.jobs.jobs_sweep``): running past its lease
    (its worker stopped: the reason on the row says so) or queued with its message lost.

    The same attempt runs again and sends under the same idempotency keys, so what the stopped worker
    did on the platform is not done twice; the employee stays In progress. Returns how many were enqueued.
    """
    task = _task()
    return jobs_sweep(SyncAttempt, enqueue=lambda pk: task.delay(pk), queued_lease_seconds=settings.HRSYNC_QUEUED_LEASE_SECONDS, now=now)
