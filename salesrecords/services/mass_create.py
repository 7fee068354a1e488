"""Mass creation: turn every individual an advanced search finds into a sales record, as a resumable job.

The job row is the truth. Work goes in chunks by individual id; each chunk is ONE transaction that
locks the job row, inserts the chunk's records set-based (``ON CONFLICT (individual_id) DO NOTHING``
skips individuals that already have one, also a concurrent job's), runs the workflows for exactly
the new records, and advances the cursor and counts. A worker killed mid-chunk rolls the chunk back;
whoever runs the job next (a redelivery, a resume) continues after the cursor. Status changes are
conditional updates, so duplicated messages cannot corrupt the counts.
"""
import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Max, Min
from django.utils import timezone

from accounts.models import AuditLog, User
from accounts.services import audit
from individuals.filters import criteria_clean, criteria_filterset, criteria_load
from individuals.models import Individual

from .. import sql
from ..models import MassCreationJob, SalesRecord, SalesRecordType
from ..rights import may_mass_create
from ..workflows import applicable_workflows, workflow_emails_send, workflows_trigger

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
    the type; ``ValidationError`` for invalid criteria (nothing written). The task is enqueued on commit.
    """
    if not may_mass_create(actor, record_type):
        raise PermissionDenied
    job = MassCreationJob(created_by=actor, criteria=criteria_clean(criteria), record_type=record_type)
    job.full_clean()
    job.save()
    _enqueue(job.pk)
    return job


def _enqueue(job_id: int) -> None:
    from ..tasks import mass_creation_run_task

    transaction.on_commit(lambda: mass_creation_run_task.delay(job_id))


def mass_creation_resume(*, actor: User | None, job: MassCreationJob) -> bool:
    """Enqueue an unfinished job again (e.g. its worker died); a no-op for a finished one."""
    if job.finished:
        return False
    _enqueue(job.pk)
    return True


def mass_creation_resume_stuck(*, older_than_seconds: int | None = None) -> int:
    """Beat: re-enqueue jobs queued or running without progress for a while; the number enqueued."""
    seconds = older_than_seconds if older_than_seconds is not None else settings.SALESRECORDS_STUCK_SECONDS
    cutoff = timezone.now() - timezone.timedelta(seconds=seconds)
    stuck = MassCreationJob.objects.filter(status__in=[Status.QUEUED, Status.RUNNING], created_at__lt=cutoff).exclude(
        heartbeat_at__gte=cutoff).values_list("pk", flat=True)
    ids = list(stuck)
    with transaction.atomic():
        for job_id in ids:
            _enqueue(job_id)
    return len(ids)


def _fail(job_id: int, reason: str) -> None:
    with transaction.atomic():
        if MassCreationJob.objects.filter(pk=job_id, status__in=[Status.QUEUED, Status.RUNNING]).update(
            status=Status.FAILED, error=reason, finished_at=timezone.now()
        ):
            _audit(MassCreationJob.objects.get(pk=job_id))


def _audit(job: MassCreationJob) -> None:
    """The job's one audit row, written in the transaction that finishes it."""
    if job.status == Status.DONE:
        summary = (f"Created {job.created} {job.record_type} sales records from {job.processed} individuals "
                   f"({job.skipped} skipped: already had one)")
    else:
        summary = f"Sales record creation failed: {job.error}"
    audit(actor=job.created_by, action=AuditLog.Action.BULK, obj=job, summary=summary,
          data={"criteria": job.criteria, "record_type": job.record_type_id, "status": job.status,
                "matched": job.matched, "created": job.created, "skipped": job.skipped})


def mass_creation_run(*, job_id: int, max_chunks: int | None = None, chunk_size: int | None = None) -> MassCreationJob:
    """Run (or continue) a job until it is done; safe to call twice at once or after a crash.

    Invalid criteria fail the job with the reason and write nothing. ``max_chunks`` stops early
    (leaving the job running, as a crash would) for tests.
    """
    job = MassCreationJob.objects.select_related("record_type").get(pk=job_id)
    if job.finished:
        return job
    try:
        matching = criteria_filterset(criteria_load(job.criteria, job.criteria_version)).qs.order_by()
    except ValidationError as exc:  # never a wider search: the job fails with the reason
        _fail(job_id, "Invalid search criteria: " + "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()))
        return MassCreationJob.objects.get(pk=job_id)
    if job.status == Status.QUEUED:
        # The search's snapshot: individuals up to the highest id now (later ones are not part of this job).
        last_id = Individual.objects.aggregate(m=Max("pk"))["m"] or 0
        first = matching.aggregate(m=Min("pk"))["m"]
        MassCreationJob.objects.filter(pk=job_id, status=Status.QUEUED).update(
            status=Status.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now(), matched=matching.count(),
            last_id=last_id, cursor=first - 1 if first else last_id)
    context = {
        "matching": matching,
        "excluded_keys": sql.not_carried_keys(),
        "workflows": applicable_workflows(job.record_type_id),
        "step": chunk_size or settings.SALESRECORDS_CHUNK_SIZE,
    }
    chunks = 0
    while max_chunks is None or chunks < max_chunks:
        more, bounds = _run_chunk(job_id, **context)
        chunks += 1
        if bounds and any(w.send_email for w in context["workflows"]):
            lo, hi = bounds
            workflow_emails_send(records=SalesRecord.objects.filter(job_id=job_id, individual_id__gt=lo, individual_id__lte=hi))
        if not more:
            break
    return MassCreationJob.objects.get(pk=job_id)


def _run_chunk(job_id: int, *, matching, excluded_keys, workflows, step) -> tuple[bool, tuple | None]:
    """The matches with ids in (cursor, cursor + step] in one transaction; (more to do, (lo, hi) or None).

    Chunks are ranges of individual ids, not of matches: each costs an index range scan whatever
    the search, and the cursor is just the range's upper end.
    """
    with transaction.atomic():
        # The row lock serialises deliveries of the same job: the second sees the first's cursor.
        job = MassCreationJob.objects.select_for_update().get(pk=job_id)
        if job.status != Status.RUNNING:
            return False, None
        lo, last_id = job.cursor, job.last_id or 0
        hi = min(lo + step, last_id)
        now = timezone.now()
        if lo >= last_id:  # nothing left: done, in the same transaction as the last progress
            MassCreationJob.objects.filter(pk=job_id, status=Status.RUNNING).update(
                status=Status.DONE, finished_at=now, matched=F("processed"), heartbeat_at=now)
            job.refresh_from_db()
            _audit(job)
            return False, None
        count, created = sql.insert_sales_records(
            individuals=matching.filter(pk__gt=lo, pk__lte=hi), record_type_id=job.record_type_id, job_id=job_id,
            stage=SalesRecord.Stage.NEW, excluded_keys=excluded_keys, now=now)
        if created and workflows:
            records = SalesRecord.objects.filter(job_id=job_id, individual_id__gt=lo, individual_id__lte=hi)
            workflows_trigger(records=records, workflows=workflows, now=now, fresh=True)
        if not count:  # a gap in the results: jump to the next match (one index probe)
            following = matching.filter(pk__gt=hi, pk__lte=last_id).aggregate(m=Min("pk"))["m"]
            hi = following - 1 if following else last_id
        MassCreationJob.objects.filter(pk=job_id).update(
            cursor=hi, processed=F("processed") + count, created=F("created") + created,
            skipped=F("skipped") + (count - created), heartbeat_at=now)
        return True, (lo, hi) if created else None
