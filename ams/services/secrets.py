"""Webhook secrets (Administration area): saved through the audited path, the value never in the audit row."""

from django.db import transaction

from accounts.models import User
from accounts.services import record_save

from ..models import WebhookSecret


@transaction.atomic
def webhook_secret_save(*, actor: User | None, secret: WebhookSecret, changed: list[str] | None = None) -> WebhookSecret:
    return record_save(actor=actor, instance=secret, changed=changed)
