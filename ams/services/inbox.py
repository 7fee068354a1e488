"""The AMS's change notifications: verify, store, answer; then process from the inbox.

Processing fetches the record as it is now, so duplicated, reordered or late notifications are
harmless; a notification for a retired id is ignored (it never creates a record).
"""
import hashlib
import hmac
import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core.errors import ApplicationError
from integrations.clients.ams360 import ams360_client
from integrations.http import IntegrationError

from ..models import Notification, WebhookSecret
from .sync import attempt_record, customer_sync, sync_error_message

RECORD_TYPES = {"Customer", "CustomerContact", "Policy"}


class SignatureError(Exception):
    """The notification is not signed with an active secret: refused, nothing stored."""


def _secrets() -> list[str]:
    keys = list(WebhookSecret.objects.filter(active=True).values_list("secret", flat=True))
    return keys or ([settings.AMS_WEBHOOK_SECRET] if settings.AMS_WEBHOOK_SECRET else [])


def signature_verify(*, body: bytes, header: str) -> None:
    """``X-AMS-Signature: sha256=<hex HMAC-SHA256 of the raw body>`` with any active secret."""
    given = header.removeprefix("sha256=").strip()
    for key in _secrets():
        if hmac.compare_digest(hmac.new(key.encode(), body, hashlib.sha256).hexdigest(), given):
            return
    raise SignatureError("The notification's signature does not match any active webhook secret.")


@transaction.atomic
def notification_receive(*, body: bytes, signature: str) -> Notification:
    """Verify and store one notification, and queue its processing after commit.

    Raises ``SignatureError`` (nothing stored) or ``ApplicationError`` for a body that is not a
    notification. A repeated delivery of the same notification is stored once.
    """
    signature_verify(body=body, header=signature)
    try:
        data = json.loads(body)
    except ValueError:
        raise ApplicationError("The notification is not JSON.") from None
    if not isinstance(data, dict):
        raise ApplicationError("The notification must be a JSON object.")
    errors = {k: "is required" for k in ("NotificationId", "RecordType", "RecordId") if not str(data.get(k) or "").strip()}
    if not errors and data["RecordType"] not in RECORD_TYPES:
        errors["RecordType"] = f"must be one of {', '.join(sorted(RECORD_TYPES))}"
    if errors:
        raise ApplicationError("The notification is incomplete.", {"fields": errors})
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                notification_id=str(data["NotificationId"])[:64], record_type=data["RecordType"],
                record_id=str(data["RecordId"])[:64], customer_id=str(data.get("CustomerId") or "")[:64],
                action=str(data.get("Action") or "")[:20], payload=data,
            )
    except IntegrityError:
        Notification.objects.filter(notification_id=str(data["NotificationId"])[:64]).update(deliveries=F("deliveries") + 1)
        return Notification.objects.get(notification_id=str(data["NotificationId"])[:64])
    from ..tasks import notification_process_task

    transaction.on_commit(lambda: notification_process_task.delay(notification.pk))
    return notification


def notification_process(*, notification_id: int, client=None) -> Notification:
    """Process one stored notification: sync the customer it concerns, as it is now. Idempotent.

    A duplicate delivery of the task finds the notification done and does nothing.
    """
    claimed = Notification.objects.filter(pk=notification_id, status__in=[Notification.Status.RECEIVED, Notification.Status.FAILED]) \
        .update(tries=F("tries") + 1)
    notification = Notification.objects.get(pk=notification_id)
    if not claimed:
        return notification
    client = client or ams360_client()
    customer_id = notification.record_id if notification.record_type == "Customer" else notification.customer_id
    try:
        if notification.record_type == "Policy":
            policy = client.policy_get(notification.record_id)
            customer_id = policy["CustomerId"] if policy else customer_id
        if not customer_id:
            raise ApplicationError("The notification names no customer.")
        outcome = customer_sync(client=client, customer_id=customer_id)
    except (IntegrationError, ApplicationError, ValidationError) as exc:
        message = (sync_error_message(exc) if isinstance(exc, IntegrationError)
                   else exc.message if isinstance(exc, ApplicationError) else "; ".join(exc.messages))
        attempt_record(outcome=None, external_id=customer_id, error=message, notification=notification)
        Notification.objects.filter(pk=notification.pk).update(status=Notification.Status.FAILED, reason=message,
                                                               processed_at=timezone.now())
        notification.refresh_from_db()
        return notification
    attempt_record(outcome=outcome, external_id=customer_id, notification=notification)
    status = Notification.Status.IGNORED if outcome.kind == "ignored" else Notification.Status.PROCESSED
    Notification.objects.filter(pk=notification.pk).update(status=status, reason=outcome.reason, processed_at=timezone.now())
    notification.refresh_from_db()
    return notification


def notifications_retry_failed() -> int:
    """Beat: queue failed notifications again (the AMS was unreachable for a while)."""
    from ..tasks import notification_process_task

    ids = list(Notification.objects.filter(status=Notification.Status.FAILED, tries__lt=5).values_list("pk", flat=True)[:500])
    for pk in ids:
        notification_process_task.delay(pk)
    return len(ids)
