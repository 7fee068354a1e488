"""Rows of work a worker runs: one status vocabulary, one claim, one lease, one sweep.

Every long job (an import, an export, a mass creation) and every unit of outside work (a sync attempt,
a poll, a push: ``integrations.attempts``) is a row built on ``Job``. Its life::

    queued --claim--> running --settle--> succeeded | failed | needs_person
      ^                  |
      |                  +--retry later--> retrying --(its time)--> claimed again
      +--sweep (lease ran out: the worker died, or the message was lost)

- ``job_claim`` takes a queued row (or a retrying one whose time has come) by one conditional UPDATE:
  running, a lease, one try more. A duplicated message claims nothing.
- The try count is the claim's fencing token: ``job_settle`` and ``job_update`` write only while the
  row is still running *under this try*, so a worker the sweep gave up on can't overwrite its successor.
- ``job_lease_kept`` renews a long job's lease from a daemon thread while the work goes on.
- ``jobs_sweep`` gives a row nobody holds (running past its lease; queued or retrying with its message
  lost) back to the queue, once, and enqueues it after commit.
- ``on_commit_enqueue`` publishes task messages only after the transaction that wrote the rows commits.

People see the statuses as queues (``Queue``): In progress, Successful, Failed, Awaiting a person.
"""

import contextlib
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta

from django.db import connections, models, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from core.display import datetime_text

log = logging.getLogger(__name__)


class Status(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    RETRYING = "retrying", "Retrying"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    NEEDS_PERSON = "needs_person", "Awaiting a person"


ACTIVE = (Status.QUEUED, Status.RUNNING, Status.RETRYING)
FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.NEEDS_PERSON)


class Queue(models.TextChoices):
    """The queues people know, each a set of statuses."""

    IN_PROGRESS = "in_progress", "In progress"
    SUCCESSFUL = "successful", "Successful"
    FAILED = "failed", "Failed"
    AWAITING = "awaiting", "Awaiting a person"


QUEUE_STATUSES = {
    Queue.IN_PROGRESS: ACTIVE,
    Queue.SUCCESSFUL: (Status.SUCCEEDED,),
    Queue.FAILED: (Status.FAILED,),
    Queue.AWAITING: (Status.NEEDS_PERSON,),
}


def queue_of(status: str) -> Queue:
    return next(queue for queue, statuses in QUEUE_STATUSES.items() if status in statuses)


class Job(models.Model):
    """A row of work: its status, when it ran, who holds it (a lease and a try count) and why it ended."""

    Status = Status
    ACTIVE = ACTIVE
    FINISHED = FINISHED

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="Queued or running past this: nobody holds it, and the sweep queues it again."
    )
    tries = models.PositiveSmallIntegerField(default=0, editable=False, help_text="Times a worker took it up.")
    next_try_at = models.DateTimeField(null=True, blank=True, help_text="Retrying: tried again at this time.")
    retrying_since = models.DateTimeField(null=True, blank=True, help_text="First transient failure of this row.")
    reason = models.TextField(blank=True, help_text="Why it is where it is, in words a person can act on.")

    class Meta:
        abstract = True

    @property
    def queue(self) -> Queue:
        return queue_of(self.status)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


def _rows(model_or_qs) -> QuerySet:
    return model_or_qs if isinstance(model_or_qs, QuerySet) else model_or_qs._default_manager.all()


def job_claim(model_or_qs, pk: int, *, lease_seconds: float, now: datetime | None = None) -> Job | None:
    """Take row ``pk`` (queued, or retrying and due) for this worker: running, leased, one try more.

    Returns the row read after the claim (through the given queryset, so it may ``select_related``),
    or None when it was not claimable (already taken, finished, or not due yet; a second's grace for clocks).
    """
    rows, now = _rows(model_or_qs), now or timezone.now()
    due = Q(next_try_at__isnull=True) | Q(next_try_at__lte=now + timedelta(seconds=1))
    claimed = rows.model._default_manager.filter(due, pk=pk, status__in=(Status.QUEUED, Status.RETRYING)).update(
        status=Status.RUNNING, started_at=now, lease_until=now + timedelta(seconds=lease_seconds), tries=F("tries") + 1, next_try_at=None
    )
    if not claimed:
        return None
    return rows.filter(pk=pk, status=Status.RUNNING).first()


def _mine(job: Job) -> QuerySet:
    return type(job)._default_manager.filter(pk=job.pk, status=Status.RUNNING, tries=job.tries)


def job_update(job: Job, **fields) -> bool:
    """Write ``fields`` (progress, counts) while this worker still holds the row; False once it lost it."""
    return bool(_mine(job).update(**fields))


def job_settle(job: Job, status: str, *, reason: str = "", now: datetime | None = None, **fields) -> bool:
    """Finish the row as ``status`` (succeeded, failed, needs_person) with ``reason`` and ``fields``, if
    this worker still holds it. Sets the same attributes on ``job``. False: the lease ran out and the
    row belongs to a newer try, whose outcome stands."""
    assert status in FINISHED, status
    values = {"status": status, "reason": reason, "finished_at": now or timezone.now(), "lease_until": None, "next_try_at": None, **fields}
    if not _mine(job).update(**values):
        return False
    for name, value in values.items():
        setattr(job, name, value)
    return True


def job_retry_at(job: Job, at: datetime, *, reason: str, lease_seconds: float, since: datetime, **fields) -> bool:
    """Put the row back as retrying, due at ``at`` (its lease covers the wait and one run), if still held."""
    values = {
        "status": Status.RETRYING,
        "next_try_at": at,
        "retrying_since": since,
        "reason": reason,
        "lease_until": at + timedelta(seconds=lease_seconds),
        **fields,
    }
    if not _mine(job).update(**values):
        return False
    for name, value in values.items():
        setattr(job, name, value)
    return True


@contextlib.contextmanager
def heartbeat(touch: Callable[[], object], *, every: float) -> Iterator[None]:
    """Call ``touch()`` every ``every`` seconds from a daemon thread (its own database connection) until
    the block ends. A missed beat is logged, not fatal."""
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(every):
                try:
                    touch()
                except Exception:
                    log.warning("heartbeat not written", exc_info=True)
        finally:
            connections.close_all()  # this thread's connections only

    thread = threading.Thread(target=beat, name="job-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=every + 5)


def job_lease_kept(job: Job, *, lease_seconds: float) -> contextlib.AbstractContextManager:
    """Renew ``job``'s lease three times per ``lease_seconds`` while the block runs (a long job's heartbeat)."""
    return heartbeat(lambda: job_update(job, lease_until=timezone.now() + timedelta(seconds=lease_seconds)), every=lease_seconds / 3)


def jobs_sweep(
    model: type[Job],
    *,
    enqueue: Callable[[int], object],
    queued_lease_seconds: float,
    now: datetime | None = None,
    limit: int = 1000,
    extra: Q | None = None,
) -> int:
    """Beat: give back every row nobody holds, each once, and ``enqueue(pk)`` it after commit.

    Running past its lease (its worker died or hangs): queued again, with the reason on the row. Queued or
    retrying past its lease (its message was lost): its lease renewed and its message sent again. A
    duplicate message is harmless (``job_claim`` takes a row once). Returns how many were enqueued.
    """
    now = now or timezone.now()
    expired = Q(status__in=ACTIVE, lease_until__lt=now) & (extra or Q())
    manager = model._default_manager
    ids = list(manager.filter(expired).order_by("lease_until").values_list("pk", flat=True)[:limit])
    lease = now + timedelta(seconds=queued_lease_seconds)
    when = datetime_text(now)
    swept = 0
    for pk in ids:
        with transaction.atomic():
            # Two statements, each conditional: a row claimed or settled meanwhile is left alone.
            requeued = manager.filter(expired, pk=pk, status=Status.RUNNING).update(
                status=Status.QUEUED,
                lease_until=lease,
                next_try_at=None,
                reason=f"Its worker stopped while running it (lease ran out; queued again at {when}).",
            )
            resent = requeued or manager.filter(expired, pk=pk).update(lease_until=lease)
            if resent:
                log.warning("%s %s: nobody holds it, enqueued again", model._meta.verbose_name, pk)
                transaction.on_commit(lambda pk=pk: enqueue(pk))
                swept += 1
    return swept


def on_commit_enqueue(task, ids: Iterable[int], *, eta: datetime | None = None) -> None:
    """Publish ``task(pk)`` for each id once the current transaction commits (at once outside one).

    One producer for the batch. A message lost here is not lost work: the row's lease runs out and the
    sweep sends it again.
    """
    ids = list(ids)
    if not ids:
        return

    def publish() -> None:
        if task.app.conf.task_always_eager:
            if eta is None:  # eagerly, a retry's message would run before its time; the sweep or a test drives it
                for pk in ids:
                    task.apply_async((pk,))
            return
        try:
            with task.app.producer_or_acquire() as producer:
                for pk in ids:
                    task.apply_async((pk,), producer=producer, eta=eta)
        except Exception:  # the broker is away: what was committed stands, and the sweep sends it when it is back
            log.warning("%s: %d message(s) not sent now; the sweep sends them again", task.name, len(ids), exc_info=True)

    transaction.on_commit(publish)
