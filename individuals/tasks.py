"""Thin Celery tasks for individuals: ids in, one service call each."""

from celery import shared_task


@shared_task(ignore_result=True)
def export_job_run_task(job_id: int) -> None:
    """Write one queued CSV export; a duplicate delivery is a no-op (the claim is conditional)."""
    from .services.exports import export_job_run

    export_job_run(job_id=job_id)


@shared_task(ignore_result=True)
def export_jobs_expire_task() -> None:
    """Beat: delete export files past their expiry (``INDIVIDUALS_EXPORT_EXPIRY_HOURS``)."""
    from .services.exports import export_jobs_expire

    export_jobs_expire()


@shared_task(ignore_result=True)
def export_jobs_sweep_task() -> int:
    """Beat, every 15 s: queue again the export jobs whose worker died (or whose message was lost)."""
    from .services.exports import export_jobs_sweep

    return export_jobs_sweep()
