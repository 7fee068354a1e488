"""Large imports as background jobs: the upload is stored (0600, under MEDIA_ROOT/imports/), a row
records the job, a Celery task runs the same all-or-nothing import and keeps the report."""
import os
import secrets
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from core.audit import audit
from core.models import AuditLog, ImportJob

IMPORT_DIR = "imports"


@transaction.atomic
def import_job_create(*, actor, resource, kind: str, source, dry_run: bool) -> ImportJob:
    """Store ``source`` (a ``RowSource`` over an upload) and queue its import by ``resource``'s class
    after commit. The caller has checked the actor's rights; the task runs as the actor. Audited."""
    from core.tasks import import_job_run_task

    relative = f"{IMPORT_DIR}/{timezone.now():%Y%m%d}-{secrets.token_hex(12)}.{source.file_format}"
    target = Path(settings.MEDIA_ROOT) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        for block in source.upload.chunks():
            out.write(block)
    job = ImportJob.objects.create(
        owner=actor, kind=kind, resource=f"{type(resource).__module__}.{type(resource).__qualname__}",
        file_name=(source.name or "")[-255:], file_format=source.file_format, file_path=relative, size=source.size,
        dry_run=dry_run)
    audit(actor=actor, action=AuditLog.Action.IMPORT, model=resource._meta.model, object_repr=str(job),
          summary=f"Queued import #{job.pk} of {kind} ({source.size:,} bytes{', dry run' if dry_run else ''})",
          data={"job": job.pk, "file": job.file_name})
    transaction.on_commit(lambda: import_job_run_task.delay(job.pk))
    return job


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Run a queued import job and keep its report (or the reason it failed, marked Failed); the stored
    upload is deleted when done. Idempotent: only a pending job, or a running one whose runner's heartbeat
    stopped (its worker died; the import was rolled back with it), is claimed, by a conditional update."""
    from core.heartbeat import job_claim, job_heartbeat

    from .base import import_dataset, import_run

    beat = settings.IMPORT_JOB_HEARTBEAT_SECONDS
    mine = job_claim(ImportJob, job_id, heartbeat_seconds=beat)
    if mine is None:
        return None
    job = ImportJob.objects.select_related("owner").get(pk=job_id)
    path = Path(settings.MEDIA_ROOT) / job.file_path
    try:
        resource = import_string(job.resource)()
        with open(path, "rb") as stream, job_heartbeat(mine, heartbeat_seconds=beat):
            report = import_run(resource=resource, kind=job.kind, dataset=import_dataset(stream, job.file_format),
                                actor=job.owner, dry_run=job.dry_run, file_format=job.file_format)
    except Exception as exc:  # the reason is shown on the job; a ValueError is the file's fault
        if mine.update(status=ImportJob.Status.FAILED, error=str(exc)[:2000] or type(exc).__name__,
                       finished_at=timezone.now()):
            path.unlink(missing_ok=True)
        if isinstance(exc, ValueError):
            return ImportJob.objects.get(pk=job.pk)
        raise
    if mine.update(status=ImportJob.Status.DONE, rows=report.rows, error_rows=report.error_rows,
                   written=report.written, report=report.as_dict(), finished_at=timezone.now()):
        path.unlink(missing_ok=True)
    return ImportJob.objects.get(pk=job.pk)


def import_jobs_resume(*, now=None) -> int:
    """Beat (every 15 s): enqueue again the import jobs nobody runs (a dead worker's, or a lost message's),
    each once. Returns how many."""
    from core.heartbeat import abandoned_jobs_resume
    from core.tasks import import_job_run_task

    return abandoned_jobs_resume(ImportJob, now=now or timezone.now(), heartbeat_seconds=settings.IMPORT_JOB_HEARTBEAT_SECONDS,
                                 queued_seconds=settings.IMPORT_JOB_QUEUED_SECONDS, enqueue=import_job_run_task.delay)
