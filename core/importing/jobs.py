"""Large imports as background jobs: the upload is stored (0600, under MEDIA_ROOT/imports/), a row
records the job (a ``core.jobs.Job``), a Celery task runs the same all-or-nothing import and keeps the report.

The job's life (docs/jobs.md): queued -> claimed (``job_claim``) -> running, its lease renewed while the
import goes on -> succeeded (with the report: written, or not for a dry run or a file with invalid rows)
or failed (the file could not be read, or the import broke). The rows are checked first, then written in
short chunk transactions with an undo log (docs/imports.md); the job is settled in the last chunk's
transaction. A worker that dies leaves the job running: its lease runs out, the sweep
(``import_jobs_sweep``) queues it again, and the next try undoes what the dead one wrote, then starts over.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from core.audit import audit
from core.jobs import Status, heartbeat, job_claim, job_settle, job_update, jobs_sweep, on_commit_enqueue
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
        owner=actor,
        kind=kind,
        resource=f"{type(resource).__module__}.{type(resource).__qualname__}",
        file_name=(source.name or "")[-255:],
        file_format=source.file_format,
        file_path=relative,
        size=source.size,
        dry_run=dry_run,
        lease_until=timezone.now() + timedelta(seconds=settings.JOB_QUEUED_LEASE_SECONDS),
    )
    audit(
        actor=actor,
        action=AuditLog.Action.IMPORT,
        model=resource._meta.model,
        object_repr=str(job),
        summary=f"Queued import #{job.pk} of {kind} ({source.size:,} bytes{', dry run' if dry_run else ''})",
        data={"job": job.pk, "file": job.file_name},
    )
    on_commit_enqueue(import_job_run_task, [job.pk])
    return job


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Run a queued import job and keep its report (or the reason it failed, marked Failed); the stored
    upload is deleted when done. Idempotent: only a queued job is claimed (``job_claim``).

    Every row is checked first (nothing written, no write transaction), then written one short transaction
    per chunk, each adding what it wrote to an undo log next to the upload before it commits (see
    ``import_run``): a failed chunk undoes the ones before it, and the next try of a job whose worker died
    mid-write undoes them first. A worker that lost its lease rolls its chunk back and stops.
    """
    from .base import ImportStopped, import_dataset, import_run, import_undo
    from .undo import UndoLog

    lease = settings.JOB_LEASE_SECONDS
    job = job_claim(ImportJob.objects.select_related("owner"), job_id, lease_seconds=lease)
    if job is None:
        return None
    path = Path(settings.MEDIA_ROOT) / job.file_path
    undo_log = UndoLog(path.with_name(path.name + ".undo"))
    rows_checked = [0]  # the job page's progress, written with each lease renewal (its own connection)

    def renew() -> None:
        job_update(job, lease_until=timezone.now() + timedelta(seconds=lease), rows=rows_checked[0])

    def progress(rows: int) -> None:
        rows_checked[0] = rows

    def chunk_written(rows: int) -> bool:
        return job_update(job, rows_written=rows, lease_until=timezone.now() + timedelta(seconds=lease))

    def finish(report) -> bool:
        return job_settle(
            job,
            Status.SUCCEEDED,
            rows=report.rows,
            rows_written=report.rows,
            error_rows=report.error_rows,
            written=report.written,
            report=report.as_dict(),
        )

    try:
        resource = import_string(job.resource)()
        with open(path, "rb") as stream, heartbeat(renew, every=lease / 3):
            if undo_log.path.exists():  # a previous try died while writing: its chunks are undone first
                import_undo(undo_log.load(), kind=job.kind, actor=job.owner, model=resource._meta.model)
            report = import_run(
                resource=resource,
                kind=job.kind,
                dataset=import_dataset(stream, job.file_format),
                actor=job.owner,
                dry_run=job.dry_run,
                file_format=job.file_format,
                progress=progress,
                undo_log=undo_log,
                chunk_written=chunk_written,
                finish=finish,
            )
            if not report.written:  # checked only (a dry run, invalid rows), or undone: settled here
                job_settle(job, Status.SUCCEEDED, rows=report.rows, error_rows=report.error_rows, written=False, report=report.as_dict())
    except ImportStopped:
        return ImportJob.objects.get(pk=job.pk)
    except Exception as exc:  # the reason is shown on the job; a ValueError is the file's fault
        if job_settle(job, Status.FAILED, reason=str(exc)[:2000] or type(exc).__name__):
            path.unlink(missing_ok=True)
        if isinstance(exc, ValueError):
            return ImportJob.objects.get(pk=job.pk)
        raise
    path.unlink(missing_ok=True)
    return ImportJob.objects.get(pk=job.pk)


def import_jobs_sweep(*, now=None) -> int:
    """Beat (every 15 s): queue again the import jobs nobody holds (a dead worker's, or a lost message's),
    each once (``core.jobs.jobs_sweep``). Returns how many."""
    from core.tasks import import_job_run_task

    return jobs_sweep(ImportJob, enqueue=import_job_run_task.delay, queued_lease_seconds=settings.JOB_QUEUED_LEASE_SECONDS, now=now)


def import_job_progress(job: ImportJob, *, now=None) -> dict:
    """What an import job's page and ``GET /api/import-jobs/{id}/`` show of its progress, while it runs and
    once done: ``phase`` (queued, checking, writing, done), ``rows_done`` and ``rows_total`` in it (the total
    is known once every row was checked: None while checking), and ``rows_per_second`` (rows checked plus
    rows written, per second since the job started; None before a second has passed)."""
    if job.finished:
        phase = "done"
    elif job.status == job.Status.QUEUED or not job.started_at:
        phase = "queued"
    else:
        phase = "writing" if job.rows_written else "checking"
    done = job.rows_written if phase == "writing" or (phase == "done" and job.written) else job.rows
    seconds = ((job.finished_at or now or timezone.now()) - job.started_at).total_seconds() if job.started_at else 0
    handled = job.rows + job.rows_written
    return {
        "phase": phase,
        "rows_done": done,
        "rows_total": job.rows if phase in ("writing", "done") else None,
        "rows_per_second": round(handled / seconds, 1) if seconds >= 1 and handled else None,
    }
