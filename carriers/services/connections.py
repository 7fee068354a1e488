"""Requesting, following, amending and retrying carrier group connections."""
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from accounts.models import AuditLog, User
from accounts.services import audit
from core.errors import ApplicationError
from integrations.clients.noyo import noyo_client
from integrations.http import IntegrationError, TransientError
from integrations.registry import System, external_id_link, external_ids_for
from plans.models import Carrier, EmployerGroup

from ..mapping import RETRYABLE_STATUSES, SETTLED_STATUSES, WAITING_ON_US, custom_id_to_uuid, normalize_ein, setup_message
from ..models import CarrierConnection, ConnectionAmendment, ConnectionEvent

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
        ConnectionEvent.objects.create(connection=connection, source=source, status=status, actor=actor,
                                       previous_status=connection.status if source != ConnectionEvent.Source.REQUEST else "",
                                       message=connection.setup_message)
    if changed:
        connection.status, connection.status_since = status, timezone.now()
    return changed


@transaction.atomic
def connection_request(*, actor: User | None, employer_group: EmployerGroup, carrier: Carrier, noyo_carrier_id: str = "",
                       **fields: Any) -> CarrierConnection:
    """Send a connection request for ``employer_group`` with ``carrier`` and store both ids it answers with.

    Pre-flight: required fields, EIN format, the carrier's id at the service, and no open connection
    for the same group and carrier. Raises ``ValidationError`` (field errors) or ``ApplicationError``
    (the service refused or could not be reached); nothing is written then.
    """
    fields.setdefault("group_name", employer_group.name)
    fields.setdefault("federal_ein", employer_group.federal_ein)
    data = _clean_fields(fields)
    noyo_carrier_id = (noyo_carrier_id or carrier_noyo_id(carrier)).strip()
    if not noyo_carrier_id or custom_id_to_uuid(noyo_carrier_id) is None:
        raise ValidationError({"noyo_carrier_id": f"Enter {carrier}'s carrier id at the service (a UUID)."})
    open_one = (CarrierConnection.objects.filter(employer_group=employer_group, carrier=carrier)
                .exclude(status__in=SETTLED_STATUSES).first())
    if open_one is not None:
        raise ValidationError({"carrier": f"{employer_group.name} already has an open connection with {carrier} "
                                          f"({open_one.status_display}); follow or retry that one."})
    group_data = {k: data[k] for k in ("carrier_group_id", "group_name", "broker_federal_ein", "broker_tin",
                                       "employer_email_address") if data.get(k)}
    try:
        answer = noyo_client().connection_create(carrier_id=noyo_carrier_id, group_data=group_data,
                                                 federal_ein=data["federal_ein"])
    except IntegrationError as exc:
        raise ApplicationError(f"The connection request was not accepted: {exc.message}", {"fields": exc.fields}) from exc
    if not carrier_noyo_id(carrier):
        external_id_link(obj=carrier, system=System.CARRIER_EXCHANGE, object_type="carrier", external_id=noyo_carrier_id)
    connection = CarrierConnection(
        employer_group=employer_group, carrier=carrier, noyo_carrier_id=noyo_carrier_id, requested_by=actor,
        connection_id=str(answer.get("id", "")), status="", status_since=timezone.now(),
        **{k: data.get(k, "") for k in ("carrier_group_id", "group_name", "federal_ein", "broker_federal_ein", "broker_tin",
                                       "employer_email_address")})
    connection.full_clean(exclude=["status", "group_id"])
    connection.save()
    _record_status(connection, answer, source=ConnectionEvent.Source.REQUEST, actor=actor)
    _next_poll(connection, changed=True)
    connection.save()
    audit(actor=actor, action=AuditLog.Action.CREATE, obj=connection,
          summary=f"Requested a connection with {carrier} (carrier group id {connection.carrier_group_id})")
    return connection


@transaction.atomic
def connection_retry(*, actor: User | None, connection: CarrierConnection, changes: dict[str, Any]) -> CarrierConnection:
    """Amend a connection that needs action (or could not connect) and send ``PUT .../retry``.

    What changed is kept as an amendment row. Raises ``ValidationError`` / ``ApplicationError``.
    """
    connection = CarrierConnection.objects.select_for_update().get(pk=connection.pk)
    if connection.status not in RETRYABLE_STATUSES:
        raise ApplicationError(f"Only a connection that needs action or could not connect can be retried; "
                               f"this one is {connection.status_display}.")
    data = _clean_fields({k: v for k, v in changes.items() if k in AMENDABLE}, partial=True)
    diff = {k: {"from": getattr(connection, k), "to": v} for k, v in data.items() if v != getattr(connection, k)}
    body = {k: v for k, v in ((k, getattr(connection, k)) for k in AMENDABLE) if v}
    body.update({k: v["to"] for k, v in diff.items() if v["to"]})
    try:
        answer = noyo_client().connection_retry(connection.connection_id, body)
    except IntegrationError as exc:
        raise ApplicationError(f"The retry was not accepted: {exc.message}", {"fields": exc.fields}) from exc
    for name, change in diff.items():
        setattr(connection, name, change["to"])
    connection.attempts += 1
    ConnectionAmendment.objects.create(connection=connection, changes=diff, attempt=connection.attempts, actor=actor)
    _record_status(connection, answer, source=ConnectionEvent.Source.RETRY, actor=actor)
    connection.unchanged_polls = 0
    _next_poll(connection, changed=True)
    connection.poll_error = ""
    connection.full_clean()
    connection.save()
    audit(actor=actor, action=AuditLog.Action.UPDATE, obj=connection, summary="Amended and retried: " +
          (ConnectionAmendment(changes=diff).summary), data={"changes": diff})
    return connection


def connection_poll(*, connection_id: int, actor: User | None = None, force: bool = False) -> CarrierConnection:
    """Ask the service where one connection stands; reschedule with backoff (or the service's Retry-After).

    A due poll is claimed with a conditional update first, so a duplicated message polls once; ``force``
    (a person's "Poll now") polls whatever the schedule says.
    A poll that reaches ``completed`` queues the pull of the group's data after commit.
    """
    from ..tasks import connection_pull_task

    now = timezone.now()
    claimed = CarrierConnection.objects.filter(pk=connection_id).exclude(status__in=SETTLED_STATUSES)
    if not force:  # the beat's poll: only when due, so a duplicated message polls once
        claimed = claimed.filter(next_poll_at__lte=now)
    if not claimed.update(next_poll_at=now + timedelta(minutes=5)):
        return CarrierConnection.objects.get(pk=connection_id)
    connection = CarrierConnection.objects.get(pk=connection_id)
    try:
        answer = noyo_client(attempts=1).connection_get(connection.connection_id)
    except IntegrationError as exc:
        connection.poll_error = exc.message
        connection.last_polled_at = now
        _next_poll(connection, changed=False, wait=exc.retry_after if isinstance(exc, TransientError) else None)
        connection.save(update_fields=["poll_error", "last_polled_at", "next_poll_at", "unchanged_polls", "updated_at"])
        return connection
    with transaction.atomic():
        connection = CarrierConnection.objects.select_for_update().get(pk=connection_id)
        changed = _record_status(connection, answer, source=ConnectionEvent.Source.POLL, actor=actor)
        connection.poll_error, connection.last_polled_at = "", now
        _next_poll(connection, changed=changed)
        connection.save()
        if changed and connection.status == "completed":
            transaction.on_commit(lambda: connection_pull_task.delay(connection.pk))
    return connection


def connections_poll_due() -> int:
    """Beat: queue a poll for every open connection whose next poll is due. Returns how many."""
    from ..tasks import connection_poll_task

    due = list(CarrierConnection.objects.exclude(status__in=SETTLED_STATUSES)
               .filter(next_poll_at__lte=timezone.now()).values_list("pk", flat=True)[:1000])
    for pk in due:
        connection_poll_task.delay(pk)
    return len(due)
