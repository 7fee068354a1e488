"""Every write of the AMS link; see each module's docstring."""

from .crm import crm_push_enqueue, crm_push_enqueue_by_id, crm_push_run, crm_remove_enqueue
from .identity import conflict_resolve, customer_candidate_page, customer_candidates, customer_link, record_link
from .inbox import SignatureError, notification_process, notification_receive
from .queue import ams_sweep
from .reconcile import reconciliation_request, reconciliation_run
from .secrets import webhook_secret_save
from .sync import customer_fetch, customer_record, customer_sync, customer_sync_request, customer_sync_run

__all__ = [
    "SignatureError",
    "ams_sweep",
    "conflict_resolve",
    "crm_push_enqueue",
    "crm_push_enqueue_by_id",
    "crm_push_run",
    "crm_remove_enqueue",
    "customer_candidate_page",
    "customer_candidates",
    "customer_fetch",
    "customer_link",
    "customer_record",
    "customer_sync",
    "customer_sync_request",
    "customer_sync_run",
    "notification_process",
    "notification_receive",
    "reconciliation_request",
    "reconciliation_run",
    "record_link",
    "webhook_secret_save",
]
