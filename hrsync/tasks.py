"""Thin Celery tasks for the benefits sync: ids in, one service call each."""

from celery import shared_task

from .services import sync_attempt_run, sync_attempts_sweep


@shared_task(ignore_result=True)
def sync_attempt_run_task(attempt_id: int) -> None:
    """Run one sync attempt; a duplicate or early delivery is a no-op (the claim is conditional)."""
    sync_attempt_run(attempt_id=attempt_id)


@shared_task(ignore_result=True)
def sync_attempts_sweep_task() -> int:
    """Beat, every minute: queue again the attempts nobody holds (a stopped worker, a lost message)."""
    return sync_attempts_sweep()
