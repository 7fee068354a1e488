"""The AMS's change notifications: verify, store, answer; then process from the inbox.

Processing fetches the record as it is now, so duplicated, reordered or late notifications are
harmless; a notification for a retired id is ignored (it never creates a record).

A notification is a row of work (``core.jobs``): queued when stored, claimed by one worker at a time
(a duplicate task claims nothing), read from the AMS outside any transaction, and settled with its
local writes in one short transaction only while still held. An AMS that can't be reached puts it
back as retrying, by the one retry policy; the sweep sends again what a dead worker left.
"""

import hashlib
import hmac
import json
from datetime import UTC, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F

from core.api.parsers import MAX_DEPTH, json_depth
from core.errors import ApplicationError
from core.jobs import Status, job_claim, job_settle, on_commit_enqueue
from integrations.attempts import attempt_retry_later
from integrations.clients.ams360 import ams360_client
from integrations.http import IntegrationError, TransientError

from ..models import Notification, WebhookSecret
from .queue import SYSTEM_NAME, attempt_lease, queued_until, with_history
from .sync import customer_fetch, customer_record, sync_error_message, sync_history_record

RECORD_TYPES = {"Customer", "CustomerContact", "Policy"}


class SignatureError(Exception):
    """The notification is not signed with an active secret: refused, nothing stored."""


def _secrets() -> list[str]:
    keys = list(WebhookSecret.objects.filter(active=True).values_list("secret", flat=True))
    return keys or ([settings.AMS_WEBHOOK_SECRET] if settings.AMS_WEBHOOK_SECRET else [])


def signature_verify(*, body: bytes, header: str) -> None:
    """``X-AMS-Signature: sha256=<hex HMAC-SHA256 of the raw body>`` with any active secret (the body carries
    its ``SentAt``, so the signature covers the time it was sent)."""
    given = header.removeprefix("sha256=").strip()
    for key in _secrets():
        if hmac.compare_digest(hmac.new(key.encode(), body, hashlib.sha256).hexdigest(), given):
            return
    raise SignatureError("The notification's signature does not match any active webhook secret.")


def notification_parse(body: bytes, *, now: datetime | None = None) -> dict:
    """The signed body as a dict: JSON nested at most ``MAX_DEPTH`` deep, sent (its ``SentAt``, inside what is
    signed) within ``AMS_WEBHOOK_MAX_AGE_SECONDS`` of now, so a captured notification cannot be replayed later.

    Raises ``ApplicationError`` (a 400) otherwise.
    """
    try:
        data = json.loads(body)
    except RecursionError:
        raise ApplicationError(f"The notification is nested too deep (at most {MAX_DEPTH} levels).") from None
    except ValueError:
        raise ApplicationError("The notification is not JSON.") from None
    if json_depth(data) > MAX_DEPTH:
        raise ApplicationError(f"The notification is nested too deep (at most {MAX_DEPTH} levels).")
    if not isinstance(data, dict):
        raise ApplicationError("The notification must be a JSON object.")
    try:
        sent = datetime.fromisoformat(str(data.get("SentAt") or "").replace("Z", "+00:00"))
    except ValueError:
        sent = None
    if sent is None or sent.tzinfo is None:
        raise ApplicationError("The notification is incomplete.", {"fields": {"SentAt": "is required: when it was sent, in UTC (ISO 8601)"}})
    age = ((now or datetime.now(UTC)) - sent).total_seconds()
    if abs(age) > settings.AMS_WEBHOOK_MAX_AGE_SECONDS:
        raise ApplicationError(
            f"The notification was sent {abs(int(age))} s {'ago' if age > 0 else 'ahead'}: "
            f"at most {settings.AMS_WEBHOOK_MAX_AGE_SECONDS} s is accepted (a replay or a wrong clock)."
        )
    return data


def _scalar_text(value) -> str:
    return str(value).strip() if isinstance(value, str | int | float) and not isinstance(value, bool) else ""


@transaction.atomic
def notification_receive(*, body: bytes, signature: str) -> Notification:
    """Verify and store one notification, and queue its processing after commit.

    Raises ``SignatureError`` (nothing stored) or ``ApplicationError`` for a body that is not a
    notification. A repeated delivery of the same notification is stored once.
    """
    signature_verify(body=body, header=signature)
    data = notification_parse(body)
    # Each a text (or a number): a list or an object where an id belongs is refused like a missing one.
    errors = {k: "is required, as text" for k in ("NotificationId", "RecordType", "RecordId") if not _scalar_text(data.get(k))}
    if not errors and data["RecordType"] not in RECORD_TYPES:
        errors["RecordType"] = f"must be one of {', '.join(sorted(RECORD_TYPES))}"
    if errors:
        raise ApplicationError("The notification is incomplete.", {"fields": errors})
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                notification_id=str(data["NotificationId"])[:64],
                record_type=data["RecordType"],
                record_id=str(data["RecordId"])[:64],
                customer_id=_scalar_text(data.get("CustomerId"))[:64],
                action=_scalar_text(data.get("Action"))[:20],
                payload=data,
                lease_until=queued_until(),
            )
    except IntegrityError:
        Notification.objects.filter(notification_id=str(data["NotificationId"])[:64]).update(deliveries=F("deliveries") + 1)
        return Notification.objects.get(notification_id=str(data["NotificationId"])[:64])
    from ..tasks import notification_process_task

    on_commit_enqueue(notification_process_task, [notification.pk])
    return notification


def notification_process(*, notification_id: int, client=None) -> Notification:
    """Process one stored notification: sync the customer it concerns, as it is now. Idempotent.

    A duplicate delivery of the task claims nothing and returns the notification as it is.
    """
    from ..tasks import notification_process_task

    notification = job_claim(Notification, notification_id, lease_seconds=attempt_lease())
    if notification is None:
        return Notification.objects.get(pk=notification_id)
    tries, earlier = notification.tries, notification.reason
    customer_id = notification.record_id if notification.record_type == "Customer" else notification.customer_id
    try:
        client = client or ams360_client()
        if notification.record_type == "Policy":
            policy = client.policy_get(notification.record_id)
            customer_id = policy["CustomerId"] if policy else customer_id
        fetched = customer_fetch(client=client, customer_id=customer_id) if customer_id else None
    except TransientError as exc:
        exc.message = sync_error_message(exc)
        held = attempt_retry_later(notification, error=exc, system=SYSTEM_NAME, lease_seconds=attempt_lease(), task=notification_process_task)
        if held is not None and held.status == Status.FAILED:  # the retry window closed
            sync_history_record(outcome=None, external_id=customer_id, error=held.reason, notification=held)
        return Notification.objects.get(pk=notification_id)
    except IntegrationError as exc:
        return _settle(notification, customer_id, error=with_history(tries, earlier, sync_error_message(exc)))
    if fetched is None:
        return _settle(notification, customer_id, error="The notification names no customer.")
    return _settle(notification, customer_id, fetched=fetched, tries=tries, earlier=earlier)


def _settle(notification: Notification, customer_id: str, *, fetched=None, error: str = "", tries: int = 1, earlier: str = "") -> Notification:
    """Write what the notification brought (if still held) and its outcome in one short transaction."""
    with transaction.atomic():
        if not job_settle(notification, Status.FAILED if error else Status.SUCCEEDED, reason=error):
            return Notification.objects.get(pk=notification.pk)  # a newer try holds it: its outcome stands
        if error:
            sync_history_record(outcome=None, external_id=customer_id, error=error, notification=notification)
            return notification
        try:
            with transaction.atomic():
                outcome = customer_record(fetched=fetched)
        except (ApplicationError, ValidationError) as exc:
            reason = exc.message if isinstance(exc, ApplicationError) else "; ".join(exc.messages)
            status, outcome = Status.FAILED, None
        else:
            # Policies that could not be mapped fail the sync (in the sync queue), not the notification.
            reason = f"Ignored: {outcome.reason}" if outcome.kind == "ignored" else outcome.reason
            status = Status.SUCCEEDED
        sync_history_record(outcome=outcome, external_id=customer_id, error=reason if outcome is None else "", notification=notification)
        reason = with_history(tries, earlier, reason)
        Notification.objects.filter(pk=notification.pk).update(status=status, reason=reason)
        notification.status, notification.reason = status, reason
    return notification
