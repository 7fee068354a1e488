"""Thin Celery tasks for the shared machinery: ids in, one service call each."""

from celery import shared_task
from django.conf import settings


# A million-row import outlasts the default task time limit; its lease is the bound instead.
@shared_task(ignore_result=True, time_limit=settings.IMPORT_JOB_TIME_LIMIT_SECONDS - 60, soft_time_limit=settings.IMPORT_JOB_TIME_LIMIT_SECONDS - 120)
def import_job_run_task(job_id: int) -> None:
    """Run one queued import job; a duplicate delivery is a no-op (the claim is conditional)."""
    from core.importing.jobs import import_job_run

    import_job_run(job_id=job_id)


@shared_task(ignore_result=True)
def import_jobs_sweep_task() -> int:
    """Beat, every 15 s: queue again the import jobs whose worker died or whose message was lost."""
    from core.importing.jobs import import_jobs_sweep

    return import_jobs_sweep()
