"""Mass creation: turn every individual an advanced search finds into a sales record, as a resumable job.

The job row is the truth. One runner at a time: a task claims the job (``runner``, ``heartbeat_at``)
with a conditional update, and only when nobody holds it or its holder's heartbeat went stale. Work
goes in chunks by individual id; each chunk is ONE transaction that inserts the chunk's records
set-based (``ON CONFLICT (individual_id) DO NOTHING`` skips individuals that already have one, also a
concurrent job's), runs the workflows for exactly the new records, and advances the cursor and counts
with ``UPDATE ... WHERE runner = me AND cursor = <where the chunk started>`` -- a runner that lost its
claim rolls its chunk back. A worker killed mid-chunk rolls the chunk back too; the beat sweep sees
its heartbeat stop and enqueues the job again, and the next runner continues after the cursor.

Any error while running (criteria the database cannot run, a refused insert) fails the job with the
reason: a job is never left Queued or Running with nobody on it.
"""
import logging
import os
import socket
import uuid

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Max, Min, Q
from django.utils import timezone

from accounts.models import AuditLog, User
from accounts.services import audit
from core.heartbeat import heartbeat
from individuals.filters import criteria_authorize, criteria_clean, criteria_filterset, criteria_load
from individuals.models import Individual

from .. import sql
from ..models import MassCreationJob, SalesRecord, SalesRecordType
from ..rights import may_mass_create
from ..workflows import applicable_workflows, runnable_workflows, workflow_emails_enqueue, workflows_trigger

logger = logging.getLogger(__name__)
Status = MassCreationJob.Status
ACTIVE = (Status.QUEUED, Status.RUNNING)


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
    job = MassCreationJob(created_by=actor, criteria=cleaned, record_type=record_type)
    job.full_clean()
    job.save()
    _enqueue(job.pk)
    return job


def _enqueue(job_id: int) -> None:
    from ..tasks import mass_creation_run_task

    transaction.on_commit(lambda: mass_creation_run_task.delay(job_id))


def mass_creation_resume(*, actor: User | None, job: MassCreationJob) -> bool:
    """Enqueue an unfinished job again (e.g. its worker died); a no-op for a finished one.

    A job whose runner is alive keeps it: the new task finds the claim taken and stops.
    """
    if job.finished:
        return False
    _enqueue(job.pk)
    return True


def _abandoned(now) -> Q:
    """Active jobs nobody is running: a claim whose heartbeat stopped, or a queued message that got lost."""
    dead = now - timezone.timedelta(seconds=settings.SALESRECORDS_HEARTBEAT_SECONDS)
    lost = now - timezone.timedelta(seconds=settings.SALESRECORDS_QUEUED_SECONDS)
    claimed_dead = ~Q(runner="") & Q(heartbeat_at__lt=dead)
    never_taken = Q(runner="") & (Q(heartbeat_at__lt=lost) | Q(heartbeat_at__isnull=True, created_at__lt=lost))
    return Q(status__in=ACTIVE) & (claimed_dead | never_taken)


def mass_creation_resume_stuck(*, now=None) -> int:
    """Beat (every 15 s): enqueue again the jobs nobody runs any more; the number enqueued.

    A job whose runner's heartbeat is older than ``SALESRECORDS_HEARTBEAT_SECONDS`` (its worker died)
    is released (``runner`` cleared, by a conditional update) and enqueued once; a queued job whose
    message has not been taken for ``SALESRECORDS_QUEUED_SECONDS`` (a lost message) likewise.
    """
    now = now or timezone.now()
    ids = list(MassCreationJob.objects.filter(_abandoned(now)).values_list("pk", flat=True))
    enqueued = 0
    for job_id in ids:
        with transaction.atomic():
            # The heartbeat restarts the clock, so the next sweeps leave the new message its time.
            if MassCreationJob.objects.filter(_abandoned(now), pk=job_id).update(runner="", heartbeat_at=now):
                logger.warning("sales record creation job %s: nobody running it, enqueued again", job_id)
                _enqueue(job_id)
                enqueued += 1
    return enqueued


def _fail(job_id: int, reason: str, *, runner: str) -> None:
    """Fail the job with ``reason``, if ``runner`` still holds it (one that lost its claim fails nothing)."""
    with transaction.atomic():
        if MassCreationJob.objects.filter(pk=job_id, status__in=ACTIVE, runner=runner).update(
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


def _runner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:100]


def _claim(job_id: int, runner: str) -> bool:
    """Take the job if nobody holds it, or its holder's heartbeat went stale (one conditional UPDATE)."""
    now = timezone.now()
    stale = now - timezone.timedelta(seconds=settings.SALESRECORDS_HEARTBEAT_SECONDS)
    free = Q(runner="") | Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True)
    return bool(MassCreationJob.objects.filter(free, pk=job_id, status__in=ACTIVE).update(runner=runner, heartbeat_at=now))


def _touch(job_id: int, runner: str) -> int:
    return MassCreationJob.objects.filter(pk=job_id, runner=runner, status__in=ACTIVE).update(heartbeat_at=timezone.now())


def _reason(exc: Exception) -> str:
    first_line = (str(exc).strip().splitlines() or [""])[0][:500]
    return f"Stopped by an error: {first_line or type(exc).__name__}. Records created before it are kept; " \
           "start a new job to finish (individuals that already have a record are skipped)."


def mass_creation_run(*, job_id: int, max_chunks: int | None = None, chunk_size: int | None = None) -> MassCreationJob:
    """Run (or continue) a job until it is done; safe to call twice at once or after a crash.

    Returns at once when another live runner holds the job. Invalid criteria, or any error while
    running, fail the job with the reason (never raises for them). ``max_chunks`` stops early,
    releasing the job, for tests.
    """
    job = MassCreationJob.objects.select_related("record_type").get(pk=job_id)
    runner = _runner_name()
    if job.finished or not _claim(job_id, runner):
        return job
    try:
        with heartbeat(lambda: _touch(job_id, runner), every=max(1.0, settings.SALESRECORDS_HEARTBEAT_SECONDS / 3)):
            finished = _run(job, runner, max_chunks=max_chunks, chunk_size=chunk_size)
    except Exception as exc:  # the job says why; the worker log has the traceback
        logger.exception("sales record creation job %s failed", job_id)
        _fail(job_id, _reason(exc), runner=runner)
    else:
        if not finished:  # stopped early (tests): let the next delivery take it at once
            MassCreationJob.objects.filter(pk=job_id, runner=runner).update(runner="")
    return MassCreationJob.objects.get(pk=job_id)


def _run(job: MassCreationJob, runner: str, *, max_chunks: int | None, chunk_size: int | None) -> bool:
    """The claimed job's chunks; True when no more work is left for this runner."""
    job_id = job.pk
    try:
        matching = criteria_filterset(criteria_load(job.criteria, job.criteria_version)).qs.order_by()
    except ValidationError as exc:  # never a wider search: the job fails with the reason
        _fail(job_id, "Invalid search criteria: " + "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()),
              runner=runner)
        return True
    if job.status == Status.QUEUED:
        # The search's snapshot: individuals up to the highest id now (later ones are not part of this job).
        # ``matched`` is the count now, for the job page's progress; the chunks' own count replaces it at the end.
        last_id = Individual.objects.aggregate(m=Max("pk"))["m"] or 0
        first = matching.aggregate(m=Min("pk"))["m"]
        now = timezone.now()
        MassCreationJob.objects.filter(pk=job_id, status=Status.QUEUED, runner=runner).update(
            status=Status.RUNNING, started_at=now, heartbeat_at=now, matched=matching.count() if first else 0,
            last_id=last_id, cursor=first - 1 if first else last_id)
    workflows = applicable_workflows(job.record_type_id)
    context = {
        "matching": matching,
        "excluded_keys": sql.not_carried_keys(),
        "workflows": workflows,
        # PostgreSQL: the workflows' actions go into each chunk's insert statement (see sql.insert_sales_records).
        "folded_workflows": runnable_workflows(workflows) if sql.folds_workflows() else None,
        "step": chunk_size or settings.SALESRECORDS_CHUNK_SIZE,
        "runner": runner,
    }
    chunks = 0
    while max_chunks is None or chunks < max_chunks:
        more = _run_chunk(job_id, **context)
        chunks += 1
        if not more:
            return True
    return False


class _ClaimLost(Exception):
    """Another runner took the job over: roll this chunk back."""


def _run_chunk(job_id: int, **context) -> bool:
    try:
        return _chunk(job_id, **context)
    except _ClaimLost:
        logger.warning("sales record creation job %s: taken over by another runner, stopping", job_id)
        return False


@transaction.atomic
def _chunk(job_id: int, *, matching, excluded_keys, workflows, folded_workflows, step, runner) -> bool:
    """The matches with ids in (cursor, cursor + step] in one transaction; whether there is more to do.

    Chunks are ranges of individual ids, not of matches: each costs an index range scan whatever
    the search, and the cursor is just the range's upper end. The job row is written last, on the
    condition that this runner still holds the job and the cursor did not move: otherwise the whole
    chunk rolls back (``_ClaimLost``), so two runners never both commit a chunk.
    """
    job = MassCreationJob.objects.get(pk=job_id)
    if job.status != Status.RUNNING or job.runner != runner:
        return False
    mine = MassCreationJob.objects.filter(pk=job_id, status=Status.RUNNING, runner=runner, cursor=job.cursor)
    lo, last_id = job.cursor, job.last_id or 0
    hi = min(lo + step, last_id)
    now = timezone.now()
    if lo >= last_id:  # nothing left: done, in the same transaction as the last progress
        if not mine.update(status=Status.DONE, finished_at=now, matched=F("processed"), heartbeat_at=now):
            raise _ClaimLost
        job.refresh_from_db()
        _audit(job)
        return False
    # PostgreSQL: the records, their stage, activities and workflow runs in one statement (one round trip).
    count, created = sql.insert_sales_records(
        individuals=matching.filter(pk__gt=lo, pk__lte=hi), record_type_id=job.record_type_id, job_id=job_id,
        stage=SalesRecord.Stage.NEW, excluded_keys=excluded_keys, now=now, workflows=folded_workflows)
    if created and workflows:
        if folded_workflows is None:
            records = SalesRecord.objects.filter(job_id=job_id, individual_id__gt=lo, individual_id__lte=hi)
            workflows_trigger(records=records, workflows=workflows, now=now, fresh=True)
        if any(w.send_email for w in workflows):
            workflow_emails_enqueue()
    if not count:  # a gap in the results: jump to the next match (one index probe)
        following = matching.filter(pk__gt=hi, pk__lte=last_id).aggregate(m=Min("pk"))["m"]
        hi = following - 1 if following else last_id
    if not mine.update(cursor=hi, processed=F("processed") + count, created=F("created") + created,
                       skipped=F("skipped") + (count - created), heartbeat_at=now):
        raise _ClaimLost
    return True
