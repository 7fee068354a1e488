"""Requesting, following, amending and retrying carrier group connections.

Each call to the service is an attempt (``attempts``): the service decides here what to send, records
the intent and commits; the call is made outside any transaction; what the service answered is written in
a new short transaction. A request or retry tried again (its answer lost, its worker dead) looks the
service up first, so the service never gets a second connection nor a second retry.
"""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.models import AuditLog, User
from accounts.services import audit
from core.errors import ApplicationError
from core.jobs import ACTIVE, Status
from integrations.attempts import Outcome, attempts_due_now
from integrations.clients.noyo import NoyoClient, status_label
from integrations.http import IntegrationError
from integrations.registry import System, external_id_link, external_ids_for
from plans.models import Carrier, EmployerGroup

from ..mapping import (
    CONNECTION_STATUS_LABELS,
    RETRYABLE_STATUSES,
    SETTLED_STATUSES,
    WAITING_ON_US,
    custom_id_to_uuid,
    normalize_ein,
    setup_message,
)
from ..models import CarrierConnection, ConnectionAmendment, ConnectionAttempt, ConnectionEvent
from .attempts import active_attempt, attempt_queue, connection_attempt_run

Kind = ConnectionAttempt.Kind

AMENDABLE = ["carrier_group_id", "federal_ein", "broker_federal_ein", "broker_tin", "employer_email_address"]


def carrier_noyo_id(carrier: Carrier) -> str:
    """The carrier's id at the service, from the external-id registry ("" when nobody has set it)."""
    row = external_ids_for(carrier).get(System.CARRIER_EXCHANGE)
    return row.external_id if row else ""


def _clean_fields(data: dict[str, Any], *, partial: bool = False) -> dict[str, str]:
    """Pre-flight checks shared by a request and a retry: field errors before anything is sent."""
    errors, out = {}, {}
    for name in ("carrier_group_id", "group_name", "federal_ein"):
        value = str(data.get(name) or "").strip()
        if value:
            out[name] = value
        elif not partial or name in data:
            errors[name] = "This field is required."
    for name in ("broker_federal_ein", "broker_tin", "employer_email_address"):
        if name in data:
            out[name] = str(data.get(name) or "").strip()
    for name in ("federal_ein", "broker_federal_ein"):
        if out.get(name):
            ein = normalize_ein(out[name])
            if ein is None:
                errors[name] = "Enter an EIN as 12-3456789 (nine digits)."
            else:
                out[name] = ein
    if out.get("employer_email_address"):
        try:
            validate_email(out["employer_email_address"])
        except ValidationError:
            errors["employer_email_address"] = "Enter a valid email address."
    if errors:
        raise ValidationError(errors)
    return out


def _next_poll(connection: CarrierConnection, *, changed: bool, wait: float | None = None) -> None:
    now = timezone.now()
    connection.unchanged_polls = 0 if changed else connection.unchanged_polls + 1
    base = settings.CARRIERS_POLL_INTERVAL_SECONDS
    backoff = min(settings.CARRIERS_POLL_MAX_INTERVAL_SECONDS, base * 2 ** min(connection.unchanged_polls, 20))
    if connection.status in SETTLED_STATUSES or connection.status in WAITING_ON_US:
        connection.next_poll_at = None
    else:
        connection.next_poll_at = now + timedelta(seconds=max(backoff, wait or 0))


def _record_status(connection: CarrierConnection, data: dict, *, source: str, actor: User | None = None) -> bool:
    """Apply the service's view of the connection; a status change is a history row. True if it changed."""
    status = str(data.get("status") or "")
    connection.group_id = str(data.get("group_id") or connection.group_id)
    connection.setup_message = setup_message(data)
    changed = status != connection.status
    if changed or source != ConnectionEvent.Source.POLL:
        ConnectionEvent.objects.create(
            connection=connection,
            source=source,
            status=status,
            actor=actor,
            previous_status=connection.status if source != ConnectionEvent.Source.REQUEST else "",
            message=connection.setup_message,
        )
    if changed:
        connection.status, connection.status_since = status, timezone.now()
    return changed


def _locked(pk: int) -> CarrierConnection:
    return CarrierConnection.objects.select_for_update(of=("self",)).select_related("employer_group", "carrier").get(pk=pk)


def _refused(attempt: ConnectionAttempt | None) -> None:
    """A person's act the service refused: its message (and the fields it named) as an ApplicationError."""
    if attempt is not None and attempt.status == Status.FAILED:
        raise ApplicationError(attempt.reason, {"fields": attempt.result.get("fields", {})})


# --- the request ------------------------------------------------------------------------------------------
def connection_request(
    *, actor: User | None, employer_group: EmployerGroup, carrier: Carrier, noyo_carrier_id: str = "", **fields: Any
) -> CarrierConnection:
    """Request a connection for ``employer_group`` with ``carrier``: recorded, then sent at once (call it
    outside a transaction), and both ids the service answers with stored.

    Pre-flight: required fields, EIN format, the carrier's id at the service, and no open connection
    for the same group and carrier. Raises ``ValidationError`` (field errors, nothing written) or
    ``ApplicationError`` (the service refused: the connection is not kept; the refused attempt is).
    A service that can't be reached leaves the request retrying by the retry policy; the connection
    shows "Requested, not yet at the service" meanwhile.
    """
    fields.setdefault("group_name", employer_group.name)
    fields.setdefault("federal_ein", employer_group.federal_ein)
    data = _clean_fields(fields)
    given = (noyo_carrier_id or "").strip()
    noyo_carrier_id = given or carrier_noyo_id(carrier).strip()
    if given and custom_id_to_uuid(given) is None:
        raise ValidationError({"noyo_carrier_id": f"Enter {carrier}'s carrier id at the service as a UUID."})
    if not noyo_carrier_id or custom_id_to_uuid(noyo_carrier_id) is None:
        raise ValidationError({"carrier": f"The carrier-connection service does not know {carrier} yet (no id there is recorded for it)."})
    group_data = {k: data[k] for k in ("carrier_group_id", "group_name", "broker_federal_ein", "broker_tin", "employer_email_address") if data.get(k)}
    busy = ConnectionAttempt.objects.filter(connection=OuterRef("pk"), status__in=ACTIVE)
    try:
        with transaction.atomic():
            # A request that never reached the service (its attempt gave up) is no connection: it makes way.
            (CarrierConnection.objects.filter(employer_group=employer_group, carrier=carrier, connection_id="").exclude(Exists(busy)).delete())
            open_one = CarrierConnection.objects.filter(employer_group=employer_group, carrier=carrier).exclude(status__in=SETTLED_STATUSES).first()
            if open_one is not None:
                raise ValidationError(
                    {
                        "carrier": f"{employer_group.name} already has an open connection with {carrier} "
                        f"({open_one.status_display}); follow or retry that one."
                    }
                )
            connection = CarrierConnection(
                employer_group=employer_group,
                carrier=carrier,
                noyo_carrier_id=noyo_carrier_id,
                requested_by=actor,
                connection_id="",
                status="",
                status_since=timezone.now(),
                **{
                    k: data.get(k, "")
                    for k in ("carrier_group_id", "group_name", "federal_ein", "broker_federal_ein", "broker_tin", "employer_email_address")
                },
            )
            connection.full_clean(exclude=["status", "group_id", "connection_id"], validate_constraints=False)
            connection.save()
            attempt = attempt_queue(
                connection=connection,
                kind=Kind.REQUEST,
                actor=actor,
                payload={"carrier_id": noyo_carrier_id, "group_data": group_data, "federal_ein": data["federal_ein"]},
            )
    except IntegrityError as exc:  # a second request for the same group and carrier, at the same moment
        raise ValidationError({"carrier": f"{employer_group.name} already has an open connection with {carrier}."}) from exc
    _refused(connection_attempt_run(attempt.pk))
    return CarrierConnection.objects.select_related("employer_group", "carrier").get(pk=connection.pk)


def _sent_before(client: NoyoClient, body: dict) -> dict | None:
    """The connection an earlier try of this request created at the service, if it did: one for the same
    carrier and carrier group id that no connection of ours knows (the newest)."""
    found = client.connections_find(carrier_id=body["carrier_id"], carrier_group_id=body["group_data"]["carrier_group_id"])
    ids = [str(c.get("id") or "") for c in found]
    known = set(CarrierConnection.objects.filter(connection_id__in=ids).values_list("connection_id", flat=True))
    mine = [c for c in found if str(c.get("id") or "") not in known]
    return max(mine, key=lambda c: c.get("created") or 0) if mine else None


def request_work(attempt: ConnectionAttempt, client: NoyoClient) -> Outcome:
    """Send the request; on a try after the first, look first for the connection an earlier try created."""
    body = attempt.payload
    answer = _sent_before(client, body) if attempt.tries > 1 else None
    found = answer is not None
    if answer is None:
        answer = client.connection_create(carrier_id=body["carrier_id"], group_data=body["group_data"], federal_ein=body.get("federal_ein", ""))
    noyo_id = str(answer.get("id", ""))
    reason = (
        f"Found connection {noyo_id} at the service, made by an earlier try (not sent again)."
        if found
        else f"The service took the request: connection {noyo_id}."
    )
    return Outcome(
        Status.SUCCEEDED, reason, fields={"result": {"connection_id": noyo_id, "found": found}}, record=lambda a: _request_recorded(a, answer)
    )


def _request_recorded(attempt: ConnectionAttempt, answer: dict) -> None:
    if attempt.connection_id is None:
        return
    connection = _locked(attempt.connection_id)
    connection.connection_id = str(answer.get("id", ""))
    _record_status(connection, answer, source=ConnectionEvent.Source.REQUEST, actor=attempt.requested_by)
    _next_poll(connection, changed=True)
    connection.save()
    if not carrier_noyo_id(connection.carrier):
        external_id_link(obj=connection.carrier, system=System.CARRIER_EXCHANGE, object_type="carrier", external_id=connection.noyo_carrier_id)
    audit(
        actor=attempt.requested_by,
        action=AuditLog.Action.CREATE,
        obj=connection,
        summary=f"Requested a connection with {connection.carrier} (carrier group id {connection.carrier_group_id})",
    )


def request_refused(attempt: ConnectionAttempt, error: IntegrationError) -> Outcome:
    """Refused: nothing exists at the service, so the connection is not kept (the attempt keeps the reason)."""

    def forget(a: ConnectionAttempt) -> None:
        CarrierConnection.objects.filter(pk=a.connection_id, connection_id="").delete()

    return Outcome(
        Status.FAILED, f"The connection request was not accepted: {error.message}", fields={"result": {"fields": error.fields}}, record=forget
    )


# --- amend and retry --------------------------------------------------------------------------------------
def connection_retry(*, actor: User | None, connection: CarrierConnection, changes: dict[str, Any]) -> CarrierConnection:
    """Amend a connection that needs action (or could not connect) and send ``PUT .../retry`` (at once,
    outside a transaction). What changed is kept as an amendment row once the service took it.

    Raises ``ValidationError`` / ``ApplicationError`` (not retryable, busy, or refused by the service).
    """
    with transaction.atomic():
        connection = _locked(connection.pk)
        if connection.status not in RETRYABLE_STATUSES:
            raise ApplicationError(
                f"Only a connection that needs action or could not connect can be retried; this one is {connection.status_display}."
            )
        data = _clean_fields({k: v for k, v in changes.items() if k in AMENDABLE}, partial=True)
        diff = {k: {"from": getattr(connection, k), "to": v} for k, v in data.items() if v != getattr(connection, k)}
        body = {k: v for k, v in ((k, getattr(connection, k)) for k in AMENDABLE) if v}
        body.update({k: v["to"] for k, v in diff.items() if v["to"]})
        # A poll still waiting is superseded by the retry (it would only read the same status again).
        connection.work.filter(kind=Kind.POLL, status__in=(Status.QUEUED, Status.RETRYING)).delete()
        if active_attempt(connection) is not None:
            raise ApplicationError("The service is being asked about this connection right now; try again in a moment.")
        attempt = attempt_queue(connection=connection, kind=Kind.RETRY, actor=actor, payload={"body": body, "diff": diff})
    _refused(connection_attempt_run(attempt.pk))
    return CarrierConnection.objects.select_related("employer_group", "carrier").get(pk=connection.pk)


def retry_work(attempt: ConnectionAttempt, client: NoyoClient) -> Outcome:
    """``PUT .../retry``; on a try after the first, read the connection first: if the service already took
    our retry (no longer waiting on us, one attempt more than we know), that is the answer."""
    connection = attempt.connection
    answer = None
    if attempt.tries > 1:
        current = client.connection_get(connection.connection_id)
        took = int((current.get("setup_metadata") or {}).get("attempts") or 0) > connection.attempts
        answer = current if took and current.get("status") not in RETRYABLE_STATUSES else None
    found = answer is not None
    if answer is None:
        answer = client.connection_retry(connection.connection_id, attempt.payload["body"])
    reason = "The service had taken the retry on an earlier try (not sent again)." if found else "The service took the amended retry."
    return Outcome(Status.SUCCEEDED, reason, fields={"result": {"found": found}}, record=lambda a: _retry_recorded(a, answer))


def _retry_recorded(attempt: ConnectionAttempt, answer: dict) -> None:
    connection, diff = _locked(attempt.connection_id), attempt.payload.get("diff", {})
    for name, change in diff.items():
        setattr(connection, name, change["to"])
    connection.attempts += 1
    ConnectionAmendment.objects.create(connection=connection, changes=diff, attempt=connection.attempts, actor=attempt.requested_by)
    _record_status(connection, answer, source=ConnectionEvent.Source.RETRY, actor=attempt.requested_by)
    connection.unchanged_polls = 0
    _next_poll(connection, changed=True)
    connection.poll_error = ""
    connection.full_clean(validate_constraints=False)
    connection.save()
    _pull_when_completed(connection, changed=True)
    audit(
        actor=attempt.requested_by,
        action=AuditLog.Action.UPDATE,
        obj=connection,
        summary="Amended and retried: " + (ConnectionAmendment(changes=diff).summary),
        data={"changes": diff},
    )


def retry_refused(attempt: ConnectionAttempt, error: IntegrationError) -> Outcome:
    return Outcome(Status.FAILED, f"The retry was not accepted: {error.message}", fields={"result": {"fields": error.fields}})


# --- polling ----------------------------------------------------------------------------------------------
def _poll_queue(connection_id: int, *, actor: User | None = None, force: bool = False, enqueue: bool = False) -> int | None:
    """Record a poll of one open connection when it is due (``force``: whenever); its attempt's id, or None.

    A poll already waiting is made due at once for a person (``force``); any other work under way on
    the connection means no new poll (it will know the status soon).
    """
    with transaction.atomic():
        connection = CarrierConnection.objects.select_for_update(of=("self",)).filter(pk=connection_id).first()
        if connection is None or connection.status in SETTLED_STATUSES or not connection.connection_id:
            return None
        active = active_attempt(connection)
        if active is not None:
            if force and active.kind == Kind.POLL and active.status != Status.RUNNING:
                attempts_due_now(ConnectionAttempt, [active.pk])
                return active.pk
            return None
        if not force and (connection.next_poll_at is None or connection.next_poll_at > timezone.now()):
            return None
        return attempt_queue(connection=connection, kind=Kind.POLL, actor=actor, enqueue=enqueue).pk


def connection_poll(*, connection_id: int, actor: User | None = None, force: bool = False) -> CarrierConnection:
    """Ask the service where one connection stands, now (call it outside a transaction); returns the connection.

    Only when due unless ``force`` (a person's *Poll now*). Backoff while nothing changes; a transient
    failure is retried by the retry policy, waiting at least the service's Retry-After. A poll that
    reaches ``completed`` queues the pull of the group's data after commit.
    """
    attempt_id = _poll_queue(connection_id, actor=actor, force=force)
    if attempt_id is not None:
        connection_attempt_run(attempt_id)
    return CarrierConnection.objects.select_related("employer_group", "carrier").get(pk=connection_id)


def poll_work(attempt: ConnectionAttempt, client: NoyoClient) -> Outcome:
    answer = client.connection_get(attempt.connection.connection_id)
    return Outcome(
        Status.SUCCEEDED,
        f"The service says: {status_label(answer.get('status'), CONNECTION_STATUS_LABELS)}.",
        record=lambda a: _poll_recorded(a, answer),
    )


def _poll_recorded(attempt: ConnectionAttempt, answer: dict) -> None:
    connection = _locked(attempt.connection_id)
    changed = _record_status(connection, answer, source=ConnectionEvent.Source.POLL, actor=attempt.requested_by)
    connection.poll_error, connection.last_polled_at = "", timezone.now()
    _next_poll(connection, changed=changed)
    connection.save()
    _pull_when_completed(connection, changed=changed)


def _pull_when_completed(connection: CarrierConnection, *, changed: bool) -> None:
    """A connection that just completed: its group data is pulled next (its task published after commit)."""
    if changed and connection.status == "completed":
        attempt_queue(connection=connection, kind=Kind.PULL, enqueue=True)


def poll_refused(attempt: ConnectionAttempt, error: IntegrationError) -> Outcome:
    """Refused (not found, credentials): shown on the connection, and polled again later by the backoff."""

    def keep(a: ConnectionAttempt) -> None:
        connection = _locked(a.connection_id)
        connection.poll_error, connection.last_polled_at = error.message, timezone.now()
        _next_poll(connection, changed=False)
        connection.save(update_fields=["poll_error", "last_polled_at", "next_poll_at", "unchanged_polls", "updated_at"])

    return Outcome(Status.FAILED, f"The service refused the poll: {error.message}", record=keep)


def connections_poll_due() -> int:
    """Beat: queue a poll for every open connection whose next poll is due and that nothing is working on.
    Returns how many were queued (their tasks are published after each commit)."""
    busy = ConnectionAttempt.objects.filter(connection=OuterRef("pk"), status__in=ACTIVE)
    due = list(
        CarrierConnection.objects.exclude(status__in=SETTLED_STATUSES)
        .exclude(connection_id="")
        .filter(next_poll_at__lte=timezone.now())
        .exclude(Exists(busy))
        .order_by("next_poll_at")
        .values_list("pk", flat=True)[:1000]
    )
    return sum(1 for pk in due if _poll_queue(pk, enqueue=True) is not None)
