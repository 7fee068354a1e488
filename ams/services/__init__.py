"""Every write of the AMS link; see each module's docstring."""
from .crm import crm_push, crm_push_by_id, crm_push_enqueue
from .identity import conflict_resolve, customer_candidates, customer_link
from .inbox import SignatureError, notification_process, notification_receive, notifications_retry_failed
from .reconcile import reconciliation_request, reconciliation_run
from .secrets import webhook_secret_save
from .sync import customer_sync

__all__ = [
    "SignatureError", "conflict_resolve", "crm_push", "crm_push_by_id", "crm_push_enqueue", "customer_candidates",
    "customer_link", "customer_sync", "notification_process", "notification_receive", "notifications_retry_failed",
    "reconciliation_request", "reconciliation_run", "webhook_secret_save",
]
