"""Thin Celery tasks for the AMS link: ids in, one service call each."""

from celery import shared_task

from .services import (
    ams_sweep,
    crm_push_enqueue_by_id,
    crm_push_run,
    customer_sync_request,
    customer_sync_run,
    notification_process,
    reconciliation_request,
    reconciliation_run,
)


@shared_task(ignore_result=True)
def notification_process_task(notification_id: int) -> None:
    """Process one stored notification (idempotent: the record is fetched as it is now)."""
    notification_process(notification_id=notification_id)


@shared_task(ignore_result=True)
def customer_sync_task(attempt_id: int) -> None:
    """Run one queued customer sync (a person linked the record to an AMS customer). (A message of the
    old shape, an AMS customer id, queues a sync of that customer.)"""
    if isinstance(attempt_id, str):
        customer_sync_request(customer_id=attempt_id)
        return
    customer_sync_run(attempt_id=attempt_id)


@shared_task(ignore_result=True)
def crm_push_task(attempt_id: int, object_id: int | None = None) -> None:
    """Run one queued CRM push or removal. (A message of the old shape, a content type and an object id,
    queues a push of that record.)"""
    if object_id is not None:
        crm_push_enqueue_by_id(content_type_id=attempt_id, object_id=object_id)
        return
    crm_push_run(attempt_id=attempt_id)


@shared_task(ignore_result=True)
def reconciliation_run_task(reconciliation_id: int) -> None:
    reconciliation_run(reconciliation_id=reconciliation_id)


@shared_task(ignore_result=True)
def reconciliation_daily_task() -> None:
    """Beat, daily: queue a reconciliation (joins one already queued or running)."""
    reconciliation_request(actor=None, trigger="schedule")


@shared_task(ignore_result=True)
def ams_sweep_task() -> int:
    """Beat, every minute: notifications, syncs and reconciliations nobody holds are sent again."""
    return ams_sweep()
