"""Thin Celery tasks for the benefits sync: ids in, one service call each."""
from celery import shared_task

from .services import sync_attempt_run, sync_leases_expire


@shared_task(ignore_result=True)
def sync_attempt_run_task(attempt_id: int) -> None:
    """Run one queued sync attempt; a duplicate delivery is a no-op (the claim is conditional)."""
    sync_attempt_run(attempt_id=attempt_id)


@shared_task(ignore_result=True)
def sync_leases_expire_task() -> int:
    """Beat, every minute: pick up attempts stuck past their lease."""
    return sync_leases_expire()
