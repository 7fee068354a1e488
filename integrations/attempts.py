"""The one sync engine: every unit of outside work is an ``Attempt`` row, run by ``attempt_run``.

Each app keeps its own rules (what to read, what to send, what to write back); the mechanism is here:

1. Record intent: the app's service writes the attempt (status queued, a lease) in the transaction
   that made the change, and enqueues its task with ``core.jobs.on_commit_enqueue``.
2. Claim: the task calls ``attempt_run``, which takes the row by a conditional update (a duplicate
   message is a no-op) -- outside any transaction.
3. Call: ``work(attempt)`` reads what it needs and calls the outside system, still outside any
   transaction, with idempotency keys (or, where the far side has none, a look-up before a create),
   so a call repeated after a lost answer or a dead worker changes nothing twice.
4. Record: the ``Outcome`` is written in one new short transaction, only if this worker still holds
   the row (its try count is the fencing token); ``outcome.record()`` writes the app's local effects
   in that same transaction.

Faults: a ``TransientError`` puts the row back as retrying, due by the one ``RetryPolicy``, until its
window closes (then Failed, with how long and how often it was tried); a ``RejectedError`` or any
other ``IntegrationError`` fails it with the far side's message. A worker that dies mid-way leaves the
row running past its lease; ``core.jobs.jobs_sweep`` queues it again and the next try repeats the
calls under the same keys.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from core import display
from core.busy import busy_retried
from core.jobs import Job, Status, job_claim, job_retry_at, job_settle, on_commit_enqueue

from .http import IntegrationError, TransientError, retry_policy


class Attempt(Job):
    """One unit of work with an outside system: a ``Job`` that also counts its HTTP calls."""

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    http_calls = models.PositiveSmallIntegerField(default=0, help_text="HTTP requests made, retries included.")

    class Meta(Job.Meta):
        abstract = True


@dataclass
class Outcome:
    """What ``work`` found: the status to settle on, why, fields of the attempt row to write, and the
    app's local writes (``record``), run in the settling transaction only if the row is still held."""

    status: str = Status.SUCCEEDED
    reason: str = ""
    fields: dict = field(default_factory=dict)
    record: Callable[[Job], object] | None = None


def when(moment: datetime) -> str:
    """A moment as staff read it, in the site's time zone."""
    return display.datetime_text(moment)


def attempt_run(
    rows,
    pk: int,
    *,
    lease_seconds: float,
    work: Callable[[Attempt], Outcome],
    task,
    system: str,
    refusal: Callable[[Attempt, IntegrationError], Outcome] | None = None,
    calls: Callable[[], int] = lambda: 0,
) -> Attempt | None:
    """Claim attempt ``pk`` of ``rows`` (a model or a queryset), run ``work`` on it outside any
    transaction, and record the outcome; None when it was not claimable or the lease was lost.

    ``task`` is the Celery task that runs this attempt (a retry is enqueued on it at its time);
    ``system`` names the far side in reasons ("the benefits platform"); ``refusal`` turns a refusal
    into the app's own outcome (default: Failed with the far side's message); ``calls`` tells how many
    HTTP requests ``work`` made (the client's counter).
    """
    attempt = job_claim(rows, pk, lease_seconds=lease_seconds)
    if attempt is None:
        return None  # a duplicate message, a retry not yet due, or finished already
    try:
        outcome = work(attempt)
    except TransientError as exc:
        return attempt_retry_later(attempt, error=exc, system=system, lease_seconds=lease_seconds, task=task, http_calls=attempt.http_calls + calls())
    except IntegrationError as exc:
        outcome = refusal(attempt, exc) if refusal else Outcome(Status.FAILED, f"The {system} refused it: {exc.message}")
    outcome.fields.setdefault("http_calls", attempt.http_calls + calls())
    return attempt_record(attempt, outcome)


def attempt_record(attempt: Attempt, outcome: Outcome) -> Attempt | None:
    """Settle ``attempt`` with ``outcome`` in one short transaction (with the app's local writes), written
    again after a short pause if it met a busy database (``core.busy.busy_retried``): the outside call is
    not made twice."""

    @transaction.atomic
    def settle() -> Attempt | None:
        if not job_settle(attempt, outcome.status, reason=outcome.reason, **outcome.fields):
            return None  # the lease ran out and a newer try owns the row: its outcome stands
        if outcome.record:
            outcome.record(attempt)
        return attempt

    return busy_retried(settle, what=f"{attempt._meta.verbose_name} {attempt.pk}'s outcome")


def attempt_retry_later(
    attempt: Attempt, *, error: TransientError, system: str, lease_seconds: float, task, record: Callable[[Job], object] | None = None, **fields
) -> Attempt | None:
    """Retrying, due by the one retry policy; Failed once its window is over (then ``record``, the app's
    local writes for a failure, runs in the settling transaction). None if the lease was lost."""
    now = timezone.now()
    since = attempt.retrying_since or attempt.started_at or now
    policy = retry_policy()
    at = policy.next_try(tries=attempt.tries, since=since, now=now, retry_after=error.retry_after)
    if at is None:
        minutes = max(1, round((now - since).total_seconds() / 60))
        reason = (
            f"The {system} was unavailable for {minutes} minute{'s' * (minutes != 1)} ({attempt.tries} tries): "
            f"{error.message}. Nothing was changed twice; try again later."
        )
        return attempt_record(attempt, Outcome(Status.FAILED, reason, fields, record))
    reason = f"Retrying: {error.message}, next try at {when(at)} (gives up after {when(since + timedelta(seconds=policy.window))})."
    with transaction.atomic():
        if not job_retry_at(attempt, at, reason=reason, lease_seconds=lease_seconds, since=since, **fields):
            return None
        on_commit_enqueue(task, [attempt.pk], eta=at)
    return attempt


def attempts_due_now(model: type[Job], pks: Iterable[int], *, lease_seconds: float | None = None) -> int:
    """A person asks now for work that waits ("Sync now", "Poll now", "Reconcile now"): each of ``pks``
    still queued or retrying is due at once, whatever later time a retry was set for.

    One conditional update: a row claimed or settled meanwhile is left alone. ``lease_seconds``: its lease
    runs from now too, as a queued row's does (a lost message is swept that soon, not after the retry's
    lease). Returns how many were made due; the caller runs them or sends their messages.
    """
    pks = list(pks)
    if not pks:
        return 0
    values = {"next_try_at": None}
    if lease_seconds is not None:
        values["lease_until"] = timezone.now() + timedelta(seconds=lease_seconds)
    return model._default_manager.filter(pk__in=pks, status__in=(Status.QUEUED, Status.RETRYING)).update(**values)
