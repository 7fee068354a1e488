"""A job row's heartbeat while a worker runs it, so a sweep can tell a dead worker's job from a slow one.

``with heartbeat(touch, every=10): ...`` calls ``touch()`` every ``every`` seconds from a daemon thread
(on its own database connection) until the block ends. ``touch`` is one conditional UPDATE
(``filter(pk=..., runner=me).update(heartbeat_at=now)``): when it matches no row the work was
handed to another runner, and the caller finds that out at its next conditional write.

``job_claim`` takes a job for a runner (and ``job_heartbeat`` beats for it); ``abandoned_jobs_resume`` is
the sweep that gives a dead worker's (or a lost message's) job to a new one.
"""
import contextlib
import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from django.db import connections, transaction
from django.db.models import Model, Q, QuerySet
from django.utils import timezone

log = logging.getLogger(__name__)


@contextlib.contextmanager
def heartbeat(touch: Callable[[], object], *, every: float) -> Iterator[None]:
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(every):
                try:
                    touch()
                except Exception:  # a missed beat is not fatal: the next one, or the job's own writes, follow
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


def job_claim(model: type[Model], pk: int, *, heartbeat_seconds: float) -> QuerySet | None:
    """Take job ``pk`` of ``model`` (``status`` pending / running, ``runner``, ``started_at``, ``heartbeat_at``,
    ``error``) for a new runner, by a conditional update: a pending job, or a running one whose runner's
    heartbeat is older than ``heartbeat_seconds`` (its worker died). Returns the job as long as this runner
    holds it (to ``update`` its heartbeat and its outcome), or None if it was not claimable."""
    me, now = uuid.uuid4().hex, timezone.now()
    dead = now - timedelta(seconds=heartbeat_seconds)
    claimable = Q(status="pending") | Q(status="running", heartbeat_at__lt=dead)
    if not model.objects.filter(claimable, pk=pk).update(status="running", runner=me, started_at=now, heartbeat_at=now, error=""):
        return None
    return model.objects.filter(pk=pk, status="running", runner=me)


def job_heartbeat(mine: QuerySet, *, heartbeat_seconds: float):
    """``heartbeat`` for a job claimed by ``job_claim``: three beats per ``heartbeat_seconds``."""
    return heartbeat(lambda: mine.update(heartbeat_at=timezone.now()), every=heartbeat_seconds / 3)


def abandoned(now: datetime, *, heartbeat_seconds: float, queued_seconds: float) -> Q:
    """Jobs (with ``status`` pending / running, ``created_at`` and ``heartbeat_at``) that nobody runs: a
    running one whose runner's heartbeat is older than ``heartbeat_seconds`` (its worker died), a pending
    one whose message nobody took within ``queued_seconds`` (lost)."""
    dead, lost = now - timedelta(seconds=heartbeat_seconds), now - timedelta(seconds=queued_seconds)
    return (Q(status="running", heartbeat_at__lt=dead) | Q(status="pending", heartbeat_at__isnull=True, created_at__lt=lost)
            | Q(status="pending", heartbeat_at__lt=lost))


def abandoned_jobs_resume(model: type[Model], *, now: datetime, heartbeat_seconds: float, queued_seconds: float,
                          enqueue: Callable[[int], object]) -> int:
    """A beat sweep: make each abandoned job of ``model`` pending again and ``enqueue(pk)`` it after commit.

    Each is taken by a conditional update, so a job is enqueued once however many sweeps run; its
    heartbeat restarts the clock, so the next sweeps leave the new message its time. Returns how many."""
    stale = abandoned(now, heartbeat_seconds=heartbeat_seconds, queued_seconds=queued_seconds)
    enqueued = 0
    for pk in model.objects.filter(stale).values_list("pk", flat=True):
        with transaction.atomic():
            if model.objects.filter(stale, pk=pk).update(status="pending", runner="", heartbeat_at=now):
                log.warning("%s %s: nobody running it, enqueued again", model._meta.verbose_name, pk)
                transaction.on_commit(lambda pk=pk: enqueue(pk))
                enqueued += 1
    return enqueued
