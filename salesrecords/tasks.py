"""Thin Celery tasks for sales records: ids in, one service call each."""

from celery import shared_task

from .services import mass_creation_jobs_sweep, mass_creation_run
from .workflows import workflow_emails_send


@shared_task(ignore_result=True, acks_late=True)
def mass_creation_run_task(job_id: int) -> None:
    """Run or continue a mass creation job; a duplicate or late delivery is a no-op or joins in safely."""
    mass_creation_run(job_id=job_id)


@shared_task(ignore_result=True)
def mass_creation_jobs_sweep_task() -> int:
    """Beat, every 15 s: queue again the jobs nobody holds any more (their worker died, or the message got lost)."""
    return mass_creation_jobs_sweep()


@shared_task(ignore_result=True)
def workflow_emails_send_task() -> int:
    """Send the pending workflow emails (after a commit that made some, and every minute from beat)."""
    return workflow_emails_send()
