"""The sync queue: request, run and recover attempts to bring employees onto the benefits platform.

States (``Employee.sync_state``): Not syncing -> In progress -> Successful | Failed, and back to In
progress on every later change. One attempt at a time per employee; every attempt is a row.

- Idempotency: every write carries a key derived from the employee's uuid (create: one key for
  the employee's whole life; update / end coverage: one key per change version), so a retry, a
  duplicated task or a re-run after a lease never makes a second account nor applies a change twice.
- Lease: a queued or running attempt carries ``lease_until``; past it, ``sync_leases_expire``
  abandons it and queues a new one (a stopped worker's employee is not stuck In progress).
- Concurrent change: an edit during a running attempt bumps ``change_version``; the attempt,
  when it finishes, sees a newer version and queues it instead of settling.
- Outages: a call that still fails transiently after the client's quick retries queues the attempt
  again for later (``next_try_at``; the task's countdown, no worker sleeps), backing off over the
  ``INTEGRATIONS_RETRY_WINDOW_SECONDS`` window; the employee stays In progress with "Retrying: <reason>,
  next try at <time>", and only after the window does the attempt fail.
"""
import functools
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import formats, timezone

from accounts.models import AuditLog, User
from accounts.services import audit
from core.db import commit_without_waiting_for_disk, joined_columns, joined_instances, update_where
from integrations.clients import benefits_platform_client
from integrations.http import AuthError, IntegrationError, NotFoundError, RejectedError, TransientError, retry_policy
from plans.models import EmployerGroup

from ..mapping import changes_for, masked, platform_account, presend_problems, presend_reason
from ..models import BenefitsLevel, Employee, SyncAttempt

Action, Status, State = SyncAttempt.Action, SyncAttempt.Status, Employee.SyncState
CHUNK = 500


def _lease(now: datetime, *, queued: bool = False) -> datetime:
    # A queued attempt may wait behind thousands of others: its lease only covers a lost message.
    seconds = settings.HRSYNC_QUEUED_LEASE_SECONDS if queued else settings.HRSYNC_LEASE_SECONDS
    return now + timedelta(seconds=seconds)


def _redoable() -> None:
    """The running attempt's own writes (claim, retry, settle) commit without waiting for the disk.

    Each is redone if a PostgreSQL crash undoes it: the attempt is left queued or running, its lease
    runs out, and the sweep's new attempt sends again under the same idempotency keys. What a person
    asked for (the request, an edit) still waits for the disk. Each attempt made two such flushes,
    the sync's main wait once the workers ran many at a time.
    """
    commit_without_waiting_for_disk()


def _enqueue(attempt_ids: list[int]) -> None:
    if attempt_ids:
        transaction.on_commit(lambda: _publish(attempt_ids))


def _publish_later(attempt_id: int, at: datetime) -> None:
    from ..tasks import sync_attempt_run_task as task

    task.apply_async((attempt_id,), eta=at)


def _publish(attempt_ids: list[int]) -> None:
    from ..tasks import sync_attempt_run_task as task

    if task.app.conf.task_always_eager:
        for pk in attempt_ids:
            task.delay(pk)
        return
    # One producer for the batch: thousands of messages without a pool checkout each. A message
    # lost here is not lost work: the attempt's lease runs out and the sweep queues it again.
    with task.app.producer_or_acquire() as producer:
        for pk in attempt_ids:
            task.apply_async((pk,), producer=producer)


@dataclass
class SyncRequestResult:
    sent: int = 0
    failed_before_sending: int = 0
    already_in_progress: int = 0

    def as_dict(self) -> dict:
        return {"sent": self.sent, "failed_before_sending": self.failed_before_sending,
                "already_in_progress": self.already_in_progress}

    def __str__(self):
        parts = [f"{self.sent} employee{'s' * (self.sent != 1)} sent to the benefits platform"]
        if self.failed_before_sending:
            parts.append(f"{self.failed_before_sending} failed before sending (see the Failed tab)")
        if self.already_in_progress:
            parts.append(f"{self.already_in_progress} already in progress")
        return "; ".join(parts) + "."


@transaction.atomic
def employee_sync_request(*, actor: User | None, employees: QuerySet | list[int], audited: bool = True) -> SyncRequestResult:
    """Queue one attempt per employee (those already In progress are left to their attempt).

    An employee the platform would refuse (missing mandatory data, no package mapping) gets a
    Failed attempt with the reason at once, and no call is made. Tasks are enqueued after commit.
    """
    qs = employees if isinstance(employees, QuerySet) else Employee.objects.filter(pk__in=list(employees))
    ids = sorted(qs.order_by().values_list("pk", flat=True))
    result, now = SyncRequestResult(), timezone.now()
    for start in range(0, len(ids), CHUNK):
        rows = (Employee.objects.select_for_update(of=("self",)).select_related("benefits_level", "employer_group")
                .filter(pk__in=ids[start:start + CHUNK]).order_by("pk"))
        attempts = []
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
                attempt.status, attempt.lease_until = Status.QUEUED, _lease(now, queued=True)
                employee.sync_state = State.IN_PROGRESS
                result.sent += 1
            attempts.append(attempt)
        SyncAttempt.objects.bulk_create(attempts)
        for attempt in attempts:
            attempt.employee.last_attempt = attempt
        Employee.objects.bulk_update([a.employee for a in attempts], ["sync_state", "last_attempt"], batch_size=CHUNK)
        _enqueue([a.pk for a in attempts if a.status == Status.QUEUED])
    if audited and ids:
        audit(actor=actor, action=AuditLog.Action.SYNC, model=Employee, object_repr=f"{len(ids)} employees",
              summary=f"Sync requested: {result}", data=result.as_dict())
    return result


@dataclass
class _Outcome:
    payload: dict
    action: str = ""
    account_id: str = ""
    note: str = ""
    sent: dict = field(default_factory=dict)


ACTION_WORDS = {Action.LINK: "link", Action.CREATE: "new account", Action.UPDATE: "update", Action.END_COVERAGE: "end of coverage"}


def sync_attempt_run(*, attempt_id: int) -> SyncAttempt | None:
    """Run one queued attempt against the platform and settle it; a no-op if it is not queued.

    Never raises for the platform's answers: a refusal or an outage becomes a Failed attempt with
    a reason a person can act on. Calls happen outside any transaction; the outcome is written
    only if the attempt still holds its lease.
    """
    with transaction.atomic():
        _redoable()
        attempt = _claim(attempt_id, timezone.now())
    if attempt is None:
        return None  # a duplicate message, or the sweep already gave the work to a newer attempt
    employee = attempt.employee
    version = employee.change_version
    problems = presend_problems(employee)
    if problems:
        return _finish(attempt, ok=False, version=version, outcome=_Outcome(payload={}), reason=presend_reason(problems))
    client = benefits_platform_client()
    outcome = _Outcome(payload=platform_account(employee))
    try:
        _send(client, employee, version, outcome)
    except RejectedError as exc:
        return _finish(attempt, ok=False, version=version, outcome=outcome, code=exc.status, calls=client.calls,
                       reason=_refusal(employee, outcome, exc))
    except TransientError as exc:
        return _retry_later(attempt, version=version, outcome=outcome, error=exc, calls=client.calls)
    except IntegrationError as exc:
        return _finish(attempt, ok=False, version=version, outcome=outcome, code=exc.status, calls=client.calls, reason=exc.message)
    return _finish(attempt, ok=True, version=version, outcome=outcome, code=client.last_status, calls=client.calls,
                   reason=outcome.note)


@functools.cache
def _claim_sql() -> tuple[str, str, list, list]:
    """The claim's SQL, built once per process from the models' columns (the ORM's compile of this
    UPDATE and of the 4-model ``select_related`` read cost more than a millisecond per attempt).

    PostgreSQL claims and reads in one statement (the UPDATE's RETURNING joined to the employee, its
    level and group); elsewhere the same read follows the UPDATE.
    """
    quote = connection.ops.quote_name
    attempt, employee, level, group = (quote(m._meta.db_table) for m in (SyncAttempt, Employee, BenefitsLevel, EmployerGroup))
    status, started, lease, tries, next_try = (quote(SyncAttempt._meta.get_field(name).column)
                                               for name in ("status", "started_at", "lease_until", "tries", "next_try_at"))
    # A retry is due at its time: an early or duplicate message claims nothing.
    update = (f"UPDATE {attempt} SET {status} = %s, {started} = %s, {lease} = %s, {tries} = {tries} + 1, "  # noqa: S608
              f"{next_try} = NULL WHERE {attempt}.id = %s AND {status} = %s AND ({next_try} IS NULL OR {next_try} <= %s)")
    columns, parts, converters = joined_columns([SyncAttempt, Employee, BenefitsLevel, EmployerGroup])
    joins = (f"INNER JOIN {employee} ON {employee}.id = {attempt}.employee_id "
             f"LEFT OUTER JOIN {level} ON {level}.id = {employee}.benefits_level_id "
             f"INNER JOIN {group} ON {group}.id = {employee}.employer_group_id")
    if connection.vendor == "postgresql":
        return (f"WITH claimed AS ({update} RETURNING {attempt}.*) "  # noqa: S608
                f"SELECT {', '.join(columns)} FROM claimed AS {attempt} {joins}"), "", parts, converters
    return update, f"SELECT {', '.join(columns)} FROM {attempt} {joins} WHERE {attempt}.id = %s", parts, converters  # noqa: S608


def _claim(attempt_id: int, now: datetime) -> SyncAttempt | None:
    """Take up a queued, due attempt (running, its lease, one try more) and read it with its employee's
    level and group; None if it is not queued or not due yet (a second's grace for clocks)."""
    claim, read, parts, converters = _claim_sql()
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(claim, [Status.RUNNING.value, adapt(now), adapt(_lease(now)), attempt_id, Status.QUEUED.value,
                               adapt(now + timedelta(seconds=1))])
        if read:
            if not cursor.rowcount:
                return None
            cursor.execute(read, [attempt_id])
        row = cursor.fetchone()
    if row is None:
        return None
    attempt, employee, level, group = joined_instances(row, parts, converters)
    employee.benefits_level, employee.employer_group = level, group
    attempt.employee = employee
    return attempt


def _send(client, employee: Employee, version: int, outcome: _Outcome) -> None:
    key = f"agencydesk-employee-{employee.uuid}"
    wanted = outcome.payload
    account_id = employee.benefits_account_id
    if not account_id:
        outcome.action = Action.LINK
        account = client.find_by_email(employee.email)
        if account:
            other = Employee.objects.filter(benefits_account_id=account["id"]).exclude(pk=employee.pk).select_related("employer_group").first()
            if other:
                raise RejectedError(f"its account {account['id']} for {employee.email} is already linked to {other} "
                                    f"of {other.employer_group}: give this employee another email.")
        elif employee.leave_date:
            outcome.action, outcome.note = Action.END_COVERAGE, "Left before having a platform account: nothing to end."
            return
        else:
            outcome.action, outcome.sent = Action.CREATE, wanted
            account = client.create(wanted, idempotency_key=f"{key}-create")
        outcome.account_id = account_id = account["id"]
        changes = changes_for(account, wanted)
        if changes:  # a linked account holding other data, or a replayed create of older data
            outcome.sent = {**outcome.sent, **changes}
            account = client.update(account_id, changes, idempotency_key=f"{key}-v{version}-update")
    else:
        outcome.action, outcome.account_id, outcome.sent = Action.UPDATE, account_id, wanted
        account = client.update(account_id, wanted, idempotency_key=f"{key}-v{version}-update")
    if employee.leave_date:
        end = employee.leave_date.isoformat()
        if account.get("status") != "coverage_ended" or account.get("coverage_end_date") != end:
            outcome.action = Action.END_COVERAGE
            outcome.sent = {**outcome.sent, "coverage_end_date": end}
            client.end_coverage(account_id, end, idempotency_key=f"{key}-v{version}-end")


def _refusal(employee: Employee, outcome: _Outcome, exc: RejectedError) -> str:
    if isinstance(exc, AuthError):
        return f"{exc.message} Check the BENEFITS_PLATFORM_API_KEY setting."
    if isinstance(exc, NotFoundError) and outcome.action == Action.UPDATE:
        return (f"The linked account {employee.benefits_account_id} no longer exists on the benefits platform: "
                "clear the employee's benefits account to link or create again.")
    return f"The benefits platform refused the {ACTION_WORDS.get(outcome.action, 'sync')}: {exc.message}"


def _when(moment: datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _retry_later(attempt: SyncAttempt, *, version: int, outcome: _Outcome, error: TransientError, calls: int):
    """Queue the attempt again for later, or fail it once the retry window is over."""
    now = timezone.now()
    since = attempt.retrying_since or attempt.started_at or now
    policy = retry_policy()
    at = policy.next_try(tries=attempt.tries, since=since, now=now, retry_after=error.retry_after)
    if at is None:
        minutes = max(1, round((now - since).total_seconds() / 60))
        return _finish(attempt, ok=False, version=version, outcome=outcome, code=error.status, calls=calls,
                       reason=f"The benefits platform was unavailable for {minutes} minute{'s' * (minutes != 1)} "
                              f"({attempt.tries} tries): {error.message}. Nothing was changed twice; sync again later.")
    with transaction.atomic():
        _redoable()
        updated = SyncAttempt.objects.filter(pk=attempt.pk, status=Status.RUNNING).update(
            status=Status.QUEUED, next_try_at=at, retrying_since=since, lease_until=at + timedelta(seconds=settings.HRSYNC_LEASE_SECONDS),
            action=outcome.action, payload=masked(outcome.sent or outcome.payload), response_code=error.status,
            account_id=outcome.account_id, http_calls=attempt.http_calls + calls,
            reason=f"Retrying: {error.message}, next try at {_when(at)} (gives up after {_when(since + timedelta(seconds=policy.window))}).")
        if not updated:
            return None  # the lease ran out and a newer attempt owns the employee now
        transaction.on_commit(lambda: _publish_later(attempt.pk, at))
    attempt.refresh_from_db()
    return attempt


@transaction.atomic
def _finish(attempt: SyncAttempt, *, ok: bool, version: int, outcome: _Outcome, reason: str = "",
            code: int | None = None, calls: int = 0) -> SyncAttempt | None:
    _redoable()
    now = timezone.now()
    fields = {"status": Status.SUCCEEDED if ok else Status.FAILED, "finished_at": now, "lease_until": None, "version": version,
                  "action": outcome.action, "payload": masked(outcome.sent or outcome.payload), "response_code": code,
                  "account_id": outcome.account_id, "reason": reason, "http_calls": attempt.http_calls + calls}
    if not update_where(SyncAttempt, fields, id=attempt.pk, status=Status.RUNNING):
        return None  # the lease ran out and a newer attempt owns the employee now
    for name, value in fields.items():
        setattr(attempt, name, value)
    updates: dict = {"last_attempt": attempt.pk, "sync_state": State.SUCCESSFUL if ok else State.FAILED}
    if ok:
        updates.update(synced_version=version, **({"benefits_account_id": outcome.account_id} if outcome.account_id else {}))
    # Settle only if nothing changed since we read the employee (one conditional UPDATE, no lock).
    if update_where(Employee, updates, id=attempt.employee_id, change_version=version):
        return attempt
    # Changed while we were sending: record what the platform now holds, then send the newer data.
    employee = Employee.objects.select_for_update().filter(pk=attempt.employee_id).first()
    if employee is None:
        return attempt  # deleted meanwhile
    newer = SyncAttempt.objects.create(employee=employee, version=employee.change_version, status=Status.QUEUED,
                                       lease_until=_lease(now, queued=True))
    updates.update(sync_state=State.IN_PROGRESS, last_attempt=newer.pk)
    Employee.objects.filter(pk=employee.pk).update(**updates)
    _enqueue([newer.pk])
    return attempt


def sync_leases_expire(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Abandon attempts queued or running past their lease and queue a new one for each employee.

    The new attempt sends under the same idempotency keys, so work the stuck one did is not
    repeated on the platform. Returns how many were picked up.
    """
    now = now or timezone.now()
    stuck = list(SyncAttempt.objects.filter(status__in=SyncAttempt.ACTIVE, lease_until__lt=now)
                 .order_by("lease_until").values_list("pk", flat=True)[:limit])
    picked = 0
    for pk in stuck:
        with transaction.atomic():
            attempt = SyncAttempt.objects.select_for_update().filter(pk=pk, status__in=SyncAttempt.ACTIVE, lease_until__lt=now).first()
            if attempt is None:
                continue
            was = attempt.get_status_display().lower()
            attempt.status, attempt.finished_at, attempt.lease_until = Status.ABANDONED, now, None
            attempt.reason = f"Still {was} when its lease ran out (the worker may have stopped): picked up again by a new attempt."
            attempt.save(update_fields=["status", "finished_at", "lease_until", "reason"])
            employee = Employee.objects.select_for_update().get(pk=attempt.employee_id)
            if employee.last_attempt_id != attempt.pk:
                continue
            newer = SyncAttempt.objects.create(employee=employee, version=employee.change_version, status=Status.QUEUED,
                                               lease_until=_lease(now, queued=True), retrying_since=attempt.retrying_since)
            Employee.objects.filter(pk=employee.pk).update(sync_state=State.IN_PROGRESS, last_attempt=newer)
            _enqueue([newer.pk])
            picked += 1
    return picked
