"""Thin Celery tasks for the AMS link: ids in, one service call each."""
from celery import shared_task

from .services import (
    crm_push_by_id,
    customer_sync,
    notification_process,
    notifications_retry_failed,
    reconciliation_request,
    reconciliation_run,
)


@shared_task(ignore_result=True)
def notification_process_task(notification_id: int) -> None:
    """Process one stored notification (idempotent: the record is fetched as it is now)."""
    notification_process(notification_id=notification_id)


@shared_task(ignore_result=True)
def customer_sync_task(customer_id: str) -> None:
    """Bring one AMS customer in after a person linked it."""
    from integrations.clients.ams360 import ams360_client

    customer_sync(client=ams360_client(), customer_id=customer_id)


@shared_task(ignore_result=True)
def crm_push_task(content_type_id: int, object_id: int) -> None:
    crm_push_by_id(content_type_id=content_type_id, object_id=object_id)


@shared_task(ignore_result=True)
def reconciliation_run_task(reconciliation_id: int) -> None:
    reconciliation_run(reconciliation_id=reconciliation_id)


@shared_task(ignore_result=True)
def reconciliation_daily_task() -> None:
    """Beat, daily: queue a reconciliation (joins one already queued or running)."""
    reconciliation_request(actor=None, trigger="schedule")


@shared_task(ignore_result=True)
def notifications_retry_task() -> int:
    """Beat, every 10 minutes: notifications whose processing failed (AMS unreachable) are tried again."""
    return notifications_retry_failed()
