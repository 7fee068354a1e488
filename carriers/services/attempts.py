"""Every call carriers makes to the service is a ``ConnectionAttempt``, run by ``integrations.attempts``.

Intent is recorded first (``attempt_queue``, inside the transaction that decided it); the call is made
after commit, outside any transaction; its outcome is recorded in a new short transaction, only while the
attempt is still held (``integrations.attempts.attempt_run``). What each kind sends and writes is in
``connections`` (request, poll, retry) and ``pull``; this module runs them and sweeps the dead ones.

A person's act (connect, poll now, amend and retry, pull now) runs its attempt at once in the request
(so the page answers with the service's reply); the beat's polls and the pull after completion run on
the integrations worker. Either way a worker that dies leaves the attempt past its lease, and the
minute beat's sweep runs it again: the request and the retry look the service up before sending again.
"""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from accounts.models import User
from core.jobs import Status, jobs_sweep, on_commit_enqueue
from integrations.attempts import attempt_run
from integrations.clients.noyo import NoyoClient, noyo_client
from integrations.http import TransientError

from ..models import CarrierConnection, ConnectionAttempt

Kind = ConnectionAttempt.Kind


def attempt_queue(
    *, connection: CarrierConnection, kind: str, actor: User | None = None, payload: dict | None = None, enqueue: bool = False
) -> ConnectionAttempt:
    """Record one unit of work for ``connection`` (call it inside the transaction that decided it).

    ``enqueue``: publish its task after commit (the beat, a completion); otherwise the caller runs it at
    once with ``connection_attempt_run`` after commit. Its lease covers a lost message either way.
    """
    attempt = ConnectionAttempt.objects.create(
        connection=connection,
        employer_group_id=connection.employer_group_id,
        carrier_id=connection.carrier_id,
        kind=kind,
        payload=payload or {},
        requested_by=actor if actor is not None and actor.pk else None,
        lease_until=timezone.now() + timedelta(seconds=settings.CARRIERS_QUEUED_LEASE_SECONDS),
    )
    if enqueue:
        from ..tasks import connection_attempt_run_task

        on_commit_enqueue(connection_attempt_run_task, [attempt.pk])
    return attempt


def _work(kind: str):
    from . import connections, pull

    return {
        Kind.REQUEST: (connections.request_work, connections.request_refused),
        Kind.POLL: (connections.poll_work, connections.poll_refused),
        Kind.RETRY: (connections.retry_work, connections.retry_refused),
        Kind.PULL: (pull.pull_work, pull.pull_refused),
    }[kind]


def connection_attempt_run(attempt_id: int) -> ConnectionAttempt | None:
    """Claim attempt ``attempt_id`` and run it: the call outside any transaction, its outcome recorded after.

    None when it was not claimable (a duplicate message, a retry not yet due, finished already) or this
    worker lost it. A transient failure leaves it retrying (the one retry policy; a longer Retry-After
    from the service is honoured); a refusal fails it with the service's message.
    """
    from ..tasks import connection_attempt_run_task

    kind = ConnectionAttempt.objects.filter(pk=attempt_id).values_list("kind", flat=True).first()
    if kind is None:
        return None
    work, refusal = _work(kind)
    # Writes and polls are tried once per attempt: the attempt retries them (a write after a look-up),
    # and a poll's Retry-After is honoured by the schedule, never by a worker sleeping.
    client = noyo_client(attempts=1 if kind != Kind.PULL else None)
    transient: list[TransientError] = []

    def run(attempt: ConnectionAttempt):
        try:
            return work(attempt, client)
        except TransientError as exc:
            transient.append(exc)
            raise

    attempt = attempt_run(
        ConnectionAttempt.objects.select_related("connection", "employer_group", "carrier", "requested_by"),
        attempt_id,
        lease_seconds=settings.CARRIERS_ATTEMPT_LEASE_SECONDS,
        work=run,
        task=connection_attempt_run_task,
        system=NoyoClient.system,
        refusal=refusal,
        calls=lambda: client.calls,
    )
    if attempt is not None and attempt.status == Status.RETRYING and transient:
        _retrying(attempt, transient[-1])
    return attempt


def _retrying(attempt: ConnectionAttempt, error: TransientError) -> None:
    """A poll or pull that waits for its retry (the retry policy honours the service's Retry-After) shows why on its connection."""
    now = timezone.now()
    if attempt.connection_id is None:
        return
    if attempt.kind == Kind.POLL:
        CarrierConnection.objects.filter(pk=attempt.connection_id).update(
            poll_error=error.message, last_polled_at=attempt.started_at or now, next_poll_at=attempt.next_try_at, updated_at=now
        )
    elif attempt.kind == Kind.PULL:
        CarrierConnection.objects.filter(pk=attempt.connection_id).update(pull_error=error.message, updated_at=now)


def connection_attempts_sweep() -> int:
    """Beat: run again every attempt nobody holds (its worker died, or its message was lost); returns how many."""
    from ..tasks import connection_attempt_run_task

    swept = jobs_sweep(
        ConnectionAttempt, enqueue=lambda pk: connection_attempt_run_task.delay(pk), queued_lease_seconds=settings.CARRIERS_QUEUED_LEASE_SECONDS
    )
    # A poll that found nothing new is worth keeping a while, not forever.
    kept = timezone.now() - timedelta(days=settings.CARRIERS_POLLS_KEPT_DAYS)
    ConnectionAttempt.objects.filter(kind=Kind.POLL, status=Status.SUCCEEDED, finished_at__lt=kept).delete()
    return swept


def active_attempt(connection: CarrierConnection) -> ConnectionAttempt | None:
    return ConnectionAttempt.objects.filter(connection=connection, status__in=ConnectionAttempt.ACTIVE).first()


__all__ = ["active_attempt", "attempt_queue", "connection_attempt_run", "connection_attempts_sweep"]
