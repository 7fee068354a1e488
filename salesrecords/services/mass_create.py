"""Mass creation: turn every individual an advanced search finds into a sales record, as a resumable job.

The job row is the truth, a ``core.jobs.Job`` (docs/jobs.md). One worker at a time: a task claims the
queued job (``job_claim``: running, a lease, one try more) and renews its lease while it works. Work goes
in chunks by individual id; each chunk is ONE transaction that inserts the chunk's records set-based
(``ON CONFLICT (individual_id) DO NOTHING`` skips individuals that already have one, also a concurrent
job's), runs the workflows for exactly the new records, and advances the cursor and counts with
``job_update`` -- conditional on the row still running under this claim's try, so a worker that lost its
lease rolls its chunk back. A worker killed mid-chunk rolls the chunk back too; its lease runs out, the
beat sweep (``jobs_sweep``) queues the job again, and the next worker continues after the cursor.

Any error while running (criteria the database cannot run, a refused insert) fails the job with the
reason: a job is never left Queued or Running with nobody on it.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Max, Min
from django.utils import timezone

from accounts.models import AuditLog, User
from accounts.services import audit
from core.busy import busy_retried
from core.jobs import job_claim, job_lease_kept, job_settle, job_update, jobs_sweep, on_commit_enqueue
from individuals.filters import criteria_authorize, criteria_clean, criteria_filterset, criteria_load, criteria_public
from individuals.models import Individual

from .. import sql
from ..models import MassCreationJob, SalesRecord, SalesRecordType
from ..rights import may_mass_create
from ..workflows import applicable_workflows, runnable_workflows, workflow_emails_enqueue, workflows_trigger

logger = logging.getLogger(__name__)
Status = MassCreationJob.Status


def mass_creation_preview(*, criteria: dict) -> dict:
    """What a job over ``criteria`` would do now: {"found", "existing", "to_create"} (two counts).

    Raises ``ValidationError`` keyed by criterion for invalid criteria (``filters.criteria_clean``)."""
    matching = criteria_filterset(criteria_clean(criteria)).qs.order_by()
    found = matching.count()
    existing = SalesRecord.objects.filter(individual__in=matching.values("pk")).count() if found else 0
    return {"found": found, "existing": existing, "to_create": found - existing}


@transaction.atomic
def mass_creation_job_create(*, actor: User, criteria: dict, record_type: SalesRecordType) -> MassCreationJob:
    """Queue a job creating a ``record_type`` sales record for every individual matching ``criteria``.

    Raises ``PermissionDenied`` without Edit on Individuals, Visible on Sales Enablement and add on
    the type, or for a search by SSN / MBI / driver's license without that right (``criteria_authorize``);
    ``ValidationError`` for invalid criteria (nothing written). The task is enqueued on commit.
    """
    if not may_mass_create(actor, record_type):
        raise PermissionDenied
    cleaned = criteria_clean(criteria)
    criteria_authorize(actor=actor, data=cleaned, how="sales records job")
    job = MassCreationJob(created_by=actor, criteria=cleaned, record_type=record_type, lease_until=_queued_lease())
    job.full_clean()
    job.save()
    _enqueue(job.pk)
    return job


def _queued_lease():
    """A queued job's lease: if no worker took its message by then (lost), the sweep sends it again."""
    return timezone.now() + timedelta(seconds=settings.JOB_QUEUED_LEASE_SECONDS)


def _enqueue(job_id: int) -> None:
    from ..tasks import mass_creation_run_task

    on_commit_enqueue(mass_creation_run_task, [job_id])


def mass_creation_resume(*, actor: User | None, job: MassCreationJob) -> bool:
    """Send an unfinished job's message again (e.g. it got lost); a no-op for a finished one.

    A job a worker holds keeps it: the new task finds nothing to claim and stops. A running job whose
    worker died is queued again by the sweep once its lease runs out (``JOB_LEASE_SECONDS``).
    """
    if job.finished:
        return False
    _enqueue(job.pk)
    return True


def mass_creation_jobs_sweep(*, now=None) -> int:
    """Beat (every 15 s): queue again the jobs nobody holds (a dead worker's, or a lost message's), each
    once (``core.jobs.jobs_sweep``); the number enqueued. The next worker continues after the cursor."""
    from ..tasks import mass_creation_run_task

    return jobs_sweep(MassCreationJob, enqueue=mass_creation_run_task.delay, queued_lease_seconds=settings.JOB_QUEUED_LEASE_SECONDS, now=now)


def _fail(job: MassCreationJob, reason: str) -> None:
    """Fail the job with ``reason``, if this try still holds it (one that lost its lease fails nothing)."""
    with transaction.atomic():
        if job_settle(job, Status.FAILED, reason=reason):
            job.refresh_from_db()
            _audit(job)


def _audit(job: MassCreationJob) -> None:
    """The job's one audit row, written in the transaction that finishes it."""
    if job.status == Status.SUCCEEDED:
        summary = f"Created {job.created} {job.record_type} sales records from {job.processed} individuals ({job.skipped} skipped: already had one)"
    else:
        summary = f"Sales record creation failed: {job.reason}"
    audit(
        actor=job.created_by,
        action=AuditLog.Action.BULK,
        obj=job,
        summary=summary,
        data={
            "criteria": criteria_public(job.criteria or {}),
            "record_type": job.record_type_id,
            "status": job.status,
            "matched": job.matched,
            "created": job.created,
            "skipped": job.skipped,
        },
    )


def _reason(exc: Exception) -> str:
    first_line = (str(exc).strip().splitlines() or [""])[0][:500]
    return (
        f"Stopped by an error: {first_line or type(exc).__name__}. Records created before it are kept; "
        "start a new job to finish (individuals that already have a record are skipped)."
    )


def mass_creation_run(*, job_id: int, max_chunks: int | None = None, chunk_size: int | None = None) -> MassCreationJob:
    """Run (or continue) a job until it is done; safe to call twice at once or after a crash.

    Returns at once when the job is not queued (another worker holds it, or it is finished). Invalid
    criteria, or any error while running, fail the job with the reason (never raises for them).
    ``max_chunks`` stops early, queuing the job again, for tests.
    """
    lease = settings.JOB_LEASE_SECONDS
    job = job_claim(MassCreationJob.objects.select_related("record_type", "created_by"), job_id, lease_seconds=lease)
    if job is None:
        return MassCreationJob.objects.get(pk=job_id)
    try:
        with job_lease_kept(job, lease_seconds=lease):
            finished = _run(job, max_chunks=max_chunks, chunk_size=chunk_size)
    except Exception as exc:  # the job says why; the worker log has the traceback
        logger.exception("sales record creation job %s failed", job_id)
        _fail(job, _reason(exc))
    else:
        if not finished:  # stopped early (tests): queued again, for the next delivery to take at once
            job_update(job, status=Status.QUEUED, lease_until=_queued_lease())
    return MassCreationJob.objects.get(pk=job_id)


def _run(job: MassCreationJob, *, max_chunks: int | None, chunk_size: int | None) -> bool:
    """The claimed job's chunks; True when no more work is left for this try."""
    try:
        matching = criteria_filterset(criteria_load(job.criteria, job.criteria_version)).qs.order_by()
    except ValidationError as exc:  # never a wider search: the job fails with the reason
        _fail(job, "Invalid search criteria: " + "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()))
        return True
    if job.last_id is None:
        # The search's snapshot: individuals up to the highest id now (later ones are not part of this job).
        # ``matched`` is the count now, for the job page's progress; the chunks' own count replaces it at the end.
        last_id = Individual.objects.aggregate(m=Max("pk"))["m"] or 0
        first = matching.aggregate(m=Min("pk"))["m"]
        if not job_update(job, matched=matching.count() if first else 0, last_id=last_id, cursor=first - 1 if first else last_id):
            return True  # the lease was lost meanwhile: the newer try takes the snapshot
    workflows = applicable_workflows(job.record_type_id)
    context = {
        "matching": matching,
        "excluded_keys": sql.not_carried_keys(),
        "workflows": workflows,
        # PostgreSQL: the workflows' actions go into each chunk's insert statement (see sql.insert_sales_records).
        "folded_workflows": runnable_workflows(workflows) if sql.folds_workflows() else None,
        "step": chunk_size or settings.SALESRECORDS_CHUNK_SIZE,
    }
    chunks = 0
    while max_chunks is None or chunks < max_chunks:
        more = _run_chunk(job, **context)
        chunks += 1
        if not more:
            return True
    return False


class _ClaimLost(Exception):
    """The sweep gave the job to a newer try: roll this chunk back."""


def _run_chunk(job: MassCreationJob, **context) -> bool:
    try:  # a busy database rolled the chunk back: written again after a short pause, not a failed job
        return busy_retried(lambda: _chunk(job, **context), what=f"sales record creation job {job.pk}'s chunk")
    except _ClaimLost:
        logger.warning("sales record creation job %s: its lease ran out and a newer try holds it, stopping", job.pk)
        return False


@transaction.atomic
def _chunk(job: MassCreationJob, *, matching, excluded_keys, workflows, folded_workflows, step) -> bool:
    """The matches with ids in (cursor, cursor + step] in one transaction; whether there is more to do.

    Chunks are ranges of individual ids, not of matches: each costs an index range scan whatever
    the search, and the cursor is just the range's upper end. The job row is written last, by
    ``job_update`` / ``job_settle``: only while this claim's try still holds the job; otherwise the
    whole chunk rolls back (``_ClaimLost``), so two workers never both commit a chunk.
    """
    row = MassCreationJob.objects.filter(pk=job.pk).values("status", "tries", "cursor", "last_id").get()
    if row["status"] != Status.RUNNING or row["tries"] != job.tries:
        return False
    lo, last_id = row["cursor"], row["last_id"] or 0
    hi = min(lo + step, last_id)
    now = timezone.now()
    if lo >= last_id:  # nothing left: succeeded, in the same transaction as the last progress
        if not job_settle(job, Status.SUCCEEDED, now=now, matched=F("processed")):
            raise _ClaimLost
        job.refresh_from_db()
        _audit(job)
        return False
    # PostgreSQL: the records, their stage, activities and workflow runs in one statement (one round trip).
    count, created = sql.insert_sales_records(
        individuals=matching.filter(pk__gt=lo, pk__lte=hi),
        record_type_id=job.record_type_id,
        job_id=job.pk,
        stage=SalesRecord.Stage.NEW,
        excluded_keys=excluded_keys,
        now=now,
        workflows=folded_workflows,
    )
    if created and workflows:
        if folded_workflows is None:
            records = SalesRecord.objects.filter(job_id=job.pk, individual_id__gt=lo, individual_id__lte=hi)
            workflows_trigger(records=records, workflows=workflows, now=now, fresh=True)
        if any(w.send_email for w in workflows):
            workflow_emails_enqueue()
    if not count:  # a gap in the results: jump to the next match (one index probe)
        following = matching.filter(pk__gt=hi, pk__lte=last_id).aggregate(m=Min("pk"))["m"]
        hi = following - 1 if following else last_id
    if not job_update(
        job,
        cursor=hi,
        processed=F("processed") + count,
        created=F("created") + created,
        skipped=F("skipped") + (count - created),
        lease_until=now + timedelta(seconds=settings.JOB_LEASE_SECONDS),
    ):
        raise _ClaimLost
    return True
