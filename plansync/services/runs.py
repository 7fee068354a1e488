"""Plan sync runs on the one sync engine (``core.jobs`` / ``integrations.attempts``).

- A run is requested by a row: ``plan_sync_queue`` writes it queued (or joins the group's waiting one) in the
  caller's transaction and enqueues it after commit -- "Sync now", a resolved conflict, a plan edited here.
- The hourly pass (``plan_sync_pass``) reads what changed there once, queues a run for each group with work,
  and runs them itself with one session (a pass that dies leaves them to the sweep).
- A run is claimed by the base's conditional update (``job_claim``), never two running for a group: the
  database refuses a second (a unique "running" row per link), and the waiting one starts when the
  running one ends. Its lease is kept by a heartbeat; ``plan_sync_sweep`` (beat, every minute) queues
  again a run nobody holds, whose next try picks up where the last stopped.
- Each plan is read, decided, written there and recorded here in its own short transaction (``sync``);
  a plan the far side could not take now (unavailable) makes the run retry by the one retry policy, a
  plan it refused (or we can't map) fails with the reason.
"""

import contextlib
import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Prefetch, Q
from django.utils import timezone

from accounts.models import AuditLog, User
from accounts.services import audit
from core.display import datetime_text
from core.jobs import Status, job_claim, job_lease_kept, jobs_sweep, on_commit_enqueue
from integrations.attempts import Outcome, attempt_record, attempt_retry_later, attempts_due_now
from integrations.clients.benefitpoint import BenefitPointClient, benefitpoint_client
from integrations.http import IntegrationError, RejectedError, TransientError
from plans.models import Plan

from ..mapping import Unmappable
from ..models import AccountLink, PlanChoice, PlanSyncConflict, PlanSyncItem, PlanSyncRun, RemotePlan
from .intake import changes_intake
from .sync import LeaseLost, ReadAhead, recording, sync_choice

log = logging.getLogger(__name__)
Choice, State, Run, Item = PlanChoice.Choice, PlanChoice.State, PlanSyncRun, PlanSyncItem
SYSTEM = "benefits-admin system"
MAX_CALLS = 32767  # the attempt's counter is a small integer


def _task():
    from ..tasks import plan_sync_run_task

    return plan_sync_run_task


def _line(text: str) -> str:
    return f"{datetime_text(timezone.now())} · {text}"


# --- requests ------------------------------------------------------------------------------------------


def plan_sync_queue(*, link_ids: list[int], trigger: str, actor: User | None = None, enqueue: bool = True) -> dict[int, PlanSyncRun]:
    """A waiting run for each of ``link_ids`` (the group's queued or retrying one joined, else a new one),
    enqueued after the caller's transaction commits (one message per run: edits joining a run send none); by
    link id. A person's request (not the hourly schedule) makes a run that is waiting for its retry due now."""
    now = timezone.now()
    waiting, due = {}, []
    for run in Run.objects.filter(link_id__in=link_ids, status__in=(Status.QUEUED, Status.RETRYING)).order_by("pk"):
        waiting.setdefault(run.link_id, run)
    if waiting and trigger != Run.Trigger.HOURLY:
        due = [run.pk for run in waiting.values() if run.next_try_at and run.next_try_at > now]
        attempts_due_now(Run, due)
    lease = now + timedelta(seconds=settings.PLANSYNC_QUEUED_LEASE_SECONDS)
    by = f", by {actor.get_full_name() or actor.username}" if actor and actor.pk else ""  # a person's name, not a login
    line = _line(f"Queued ({Run.Trigger(trigger).label}{by}).")
    new = Run.objects.bulk_create(
        [
            Run(link_id=link_id, trigger=trigger, requested_by=actor if actor and actor.pk else None, lease_until=lease, history=[line])
            for link_id in dict.fromkeys(link_ids)
            if link_id not in waiting
        ]
    )
    if enqueue:  # a joined run has its message already (unless waiting for a later retry); a person's click sends one
        asked = trigger in (Run.Trigger.MANUAL, Run.Trigger.RESOLVE)
        on_commit_enqueue(_task(), [run.pk for run in new] + ([run.pk for run in waiting.values()] if asked else due))
    return {**waiting, **{run.link_id: run for run in new}}


# --- the hourly pass -----------------------------------------------------------------------------------


def links_with_work() -> set[int]:
    """Groups with something to do: flagged or pending choices, local edits, local renewals of synced plans."""
    ids = set(PlanChoice.objects.filter(Q(needs_pull=True) | Q(needs_rate_pull=True) | Q(state=State.PENDING)).values_list("link_id", flat=True))
    ids |= set(
        PlanChoice.objects.filter(state=State.SYNCED, plan__isnull=False).exclude(plan__version=F("local_version")).values_list("link_id", flat=True)
    )
    ids |= set(
        Plan.objects.filter(
            plan_sync_choice__isnull=True, renewed_from__plan_sync_choice__state=State.SYNCED, group__benefits_admin_link__isnull=False
        ).values_list("group__benefits_admin_link", flat=True)
    )
    return ids


def plan_sync_pass(*, trigger: str = Run.Trigger.HOURLY, actor: User | None = None, link_ids: list[int] | None = None) -> list[PlanSyncRun]:
    """One pass with one session: intake, then a run for each group with work (or for ``link_ids``), each
    run by this worker; returns them (a group whose previous run is still running: its run waits, queued)."""
    try:
        client, unavailable = benefitpoint_client(), None
    except IntegrationError as exc:
        client, unavailable = None, exc
    runs = []
    with client or _nothing():
        note = ""
        if client is not None:
            try:
                changes_intake(client)
            except IntegrationError as exc:
                note = f"Changes there could not be read ({exc.message}); local changes were still sent."
        targets = sorted(set(link_ids) if link_ids is not None else links_with_work())
        with transaction.atomic():
            queued = plan_sync_queue(link_ids=targets, trigger=trigger, actor=actor, enqueue=False)
        busy = set(Run.objects.filter(link_id__in=targets, status=Status.RUNNING).values_list("link_id", flat=True))
        renewing = _groups_with_local_renewals()
        links = {link.pk: link for link in AccountLink.objects.filter(pk__in=targets).select_related("group")}
        # The plans of every group in one read (groups following a local renewal read theirs after adding it);
        # what their syncs read there is read a few plans ahead, a few calls at a time.
        preload = _choices([pk for pk in targets if pk not in busy and links[pk].group_id not in renewing])
        ahead = [c for pk in targets if pk not in busy for c in preload.get(pk, []) if _has_work(c)]
        with ReadAhead(client, ahead) if client is not None else _nothing() as reads:
            for pk in targets:
                renews = links[pk].group_id in renewing
                done = plan_sync_run(
                    run_id=queued[pk].pk,
                    client=client,
                    unavailable=unavailable,
                    note=note,
                    reads=reads,
                    follow_renewals=renews,
                    choices=None if renews else preload.get(pk, []),
                    check=pk in busy,
                )
                runs.append(done or Run.objects.get(pk=queued[pk].pk))
    if runs:
        failed = sum(r.status == Status.FAILED for r in runs)
        audit(
            actor=actor,
            action=AuditLog.Action.SYNC,
            model=AccountLink,
            object_repr=f"{len(runs)} groups",
            summary=f"Plan sync pass ({Run.Trigger(trigger).label}): {len(runs)} runs, {failed} failed",
            data={"runs": [r.pk for r in runs]},
        )
    return runs


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


# --- one run -------------------------------------------------------------------------------------------


def _claim(run_id: int, *, check: bool = True) -> PlanSyncRun | None:
    """Take run ``run_id`` for this worker, unless its group's previous run is still running (then it
    waits, queued: that run hands over when it ends, or the sweep sends it again). ``check=False``: the
    caller knows no run of the group was running (the database still refuses a second)."""
    running = check and Run.objects.filter(link__runs=run_id, status=Status.RUNNING).exclude(pk=run_id).exists()
    run = None
    if not running:
        try:  # one statement; a savepoint only inside a caller's transaction
            with transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext():
                run = job_claim(Run.objects.select_related("link__group"), run_id, lease_seconds=settings.PLANSYNC_RUN_LEASE_SECONDS)
        except IntegrityError:  # another run of the group was claimed meanwhile: runs never overlap
            running = True
    if running:
        Run.objects.filter(pk=run_id, status=Status.QUEUED).exclude(reason__startswith="Waiting").update(
            reason="Waiting: the previous run of this group is still running (runs never overlap); this one starts when it ends."
        )
        return None
    if run is None:
        return None
    stopped = run.tries > 1 and run.items.filter(status=Item.Status.RUNNING, run_try__lt=run.tries).update(
        status=Item.Status.FAILED, reason=f"Stopped before its outcome was recorded (its worker stopped); try {run.tries} picks the plan up again."
    )
    # Written with the try's outcome (a try that dies leaves the sweep's reason, read by the next one).
    run.history = [
        *run.history,
        _line(
            f"Try {run.tries} started"
            + (f" after: {run.reason}" if run.tries > 1 and run.reason else "")
            + (f" ({stopped} plan{'s' * (stopped != 1)} of the last try had no recorded outcome)" if stopped else "")
            + "."
        ),
    ]
    return run


def plan_sync_run(
    *,
    run_id: int,
    client: BenefitPointClient | None = None,
    unavailable: IntegrationError | None = None,
    note: str = "",
    reads: ReadAhead | None = None,
    follow_renewals: bool = True,
    choices: list[PlanChoice] | None = None,
    check: bool = True,
) -> PlanSyncRun | None:
    """Claim run ``run_id`` and sync its group's plans; None when it was not claimable (finished, taken,
    waiting for the group's running run) or its lease was lost. Without ``client`` (a task), it opens its
    own session and reads what changed there first."""
    run = _claim(run_id, check=check)
    if run is None:
        return None
    if client is None and unavailable is None:
        try:
            with benefitpoint_client() as own:
                try:
                    changes_intake(own)
                except IntegrationError as exc:
                    note = f"Changes there could not be read ({exc.message}); local changes were still sent."
                return _run(own, run, note=note, reads=None, follow_renewals=True, choices=None)
        except IntegrationError as exc:
            unavailable = exc
    if client is None:
        error = unavailable if isinstance(unavailable, TransientError) else TransientError(unavailable.message)
        return _retry_later(run, error, calls=0, line=f"Try {run.tries}: the {SYSTEM} could not be reached: {unavailable.message}")
    return _run(client, run, note=note, reads=reads, follow_renewals=follow_renewals, choices=choices)


def _run(
    client: BenefitPointClient, run: PlanSyncRun, *, note: str, reads: ReadAhead | None, follow_renewals: bool, choices: list[PlanChoice] | None
) -> PlanSyncRun | None:
    calls = client.calls
    try:
        with job_lease_kept(run, lease_seconds=settings.PLANSYNC_RUN_LEASE_SECONDS):
            counts, transient = _sync_plans(client, run, reads=reads, follow_renewals=follow_renewals, choices=choices)
    except LeaseLost:
        log.warning("plan sync run %s: lease lost; a newer try owns it", run.pk)
        return None
    n = counts["plans"]
    summary = f"{n} plan{'s' * (n != 1)} with changes: {counts['changed']} changed, {counts['conflicts']} with conflicts, {counts['failed']} failed."
    made = client.calls - calls
    if transient is not None:
        error = TransientError(
            f"{summary} The {SYSTEM} was unavailable for {counts['transient']} of them ({transient.message})", retry_after=transient.retry_after
        )
        return _retry_later(run, error, calls=made, line=f"Try {run.tries}: {summary} Retried later: {transient.message}")
    reason = " ".join(filter(None, [summary, note]))
    status = Status.FAILED if counts["failed"] else Status.SUCCEEDED
    fields = {"http_calls": min(MAX_CALLS, run.http_calls + made), "history": [*run.history, _line(f"Try {run.tries}: {reason}")]}
    return attempt_record(run, Outcome(status, reason, fields, record=_hand_over))


def _retry_later(run: PlanSyncRun, error: TransientError, *, calls: int, line: str) -> PlanSyncRun | None:
    """Retrying, due by the one retry policy (Failed once its window is over); the next waiting run may start."""
    done = attempt_retry_later(
        run,
        error=error,
        system=SYSTEM,
        lease_seconds=settings.PLANSYNC_RUN_LEASE_SECONDS,
        task=_task(),
        http_calls=min(MAX_CALLS, run.http_calls + calls),
        history=[*run.history, _line(line)],
    )
    if done is not None:
        _hand_over(done)
    return done


def _hand_over(run: PlanSyncRun) -> None:
    """The group's next waiting run starts now that this one no longer runs (after commit)."""
    waiting = Run.objects.filter(link_id=run.link_id, status=Status.QUEUED).exclude(pk=run.pk).values_list("pk", flat=True)
    on_commit_enqueue(_task(), list(waiting))


def _sync_plans(
    client: BenefitPointClient, run: PlanSyncRun, *, reads: ReadAhead | None, follow_renewals: bool, choices: list[PlanChoice] | None
) -> tuple[dict, TransientError | None]:
    """Each plan of the run's group with work, in turn; its outcome recorded on its own. Returns the counts
    and the last error of a plan the far side could not take now (None: none)."""
    link = run.link
    if follow_renewals:
        _local_renewals(link)
    if choices is None:
        choices = _choices([link.pk]).get(link.pk, [])
    work = [c for c in choices if _has_work(c)]
    unnamed = [c.product_id for c in work if not c.plan_id]
    names = dict(RemotePlan.objects.filter(product_id__in=unnamed).values_list("product_id", "data__name")) if unnamed else {}
    # Every plan with work shows Running at once; each one is recorded in its own transaction.
    items = PlanSyncItem.objects.bulk_create(
        [
            PlanSyncItem(
                run=run,
                run_try=run.tries,
                choice=c,
                plan_label=(str(c) if c.plan_id else f"{names.get(c.product_id) or 'Plan'} (benefits-admin {c.product_id})")[:250],
            )
            for c in work
        ]
    )
    counts = {"plans": len(items), "changed": 0, "failed": 0, "conflicts": 0, "transient": 0}
    transient = None
    for choice, item in zip(work, items, strict=True):
        reason = ""
        try:
            sync_choice(client, run, choice, item, reads.take(choice) if reads else None)
        except Unmappable as exc:
            reason = f"{str(exc).rstrip(':')}: this plan can't be synced until it is changed."
        except ValidationError as exc:
            reason = "AgencyDesk refused the values: " + _messages(exc)
        except RejectedError as exc:
            reason = f"The {SYSTEM} refused the plan: {exc.message}"
        except IntegrationError as exc:
            transient = exc if isinstance(exc, TransientError) else TransientError(exc.message)
            counts["transient"] += 1
            reason = f"The {SYSTEM} was unavailable: {exc.message}. Nothing was written twice; the run tries it again."
        if reason:
            with recording(run):
                item.status, item.reason, item.changes = Item.Status.FAILED, reason, []
                item.save(update_fields=["status", "reason", "changes"])
        counts["changed"] += bool(item.changes)
        counts["failed"] += item.status == Item.Status.FAILED
        counts["conflicts"] += "conflict" in item.action
    return counts, transient


def _messages(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in exc.message_dict.items())
    return " ".join(exc.messages)


def _choices(link_ids: list[int]) -> dict[int, list[PlanChoice]]:
    """The syncing plan choices of these groups, with what a run reads of them, by group."""
    open_conflicts = Prefetch("conflicts", queryset=PlanSyncConflict.objects.filter(status=PlanSyncConflict.Status.OPEN), to_attr="open_conflicts")
    by_link: dict[int, list[PlanChoice]] = {}
    if link_ids:
        for choice in (
            PlanChoice.objects.filter(link_id__in=link_ids, state__in=[State.PENDING, State.SYNCED])
            .select_related("link__group", "plan__carrier", "plan__renewed_from")
            .prefetch_related("plan__rates", open_conflicts)
            .order_by("pk")
        ):
            by_link.setdefault(choice.link_id, []).append(choice)
    return by_link


def _groups_with_local_renewals() -> set[int]:
    return set(
        Plan.objects.filter(plan_sync_choice__isnull=True, renewed_from__plan_sync_choice__state=State.SYNCED).values_list("group_id", flat=True)
    )


def _local_renewals(link: AccountLink) -> None:
    """A plan renewed here from a synced plan follows it there (created with ``parentProductID``)."""
    for plan in Plan.objects.filter(
        group=link.group, plan_sync_choice__isnull=True, renewed_from__plan_sync_choice__state=State.SYNCED
    ).select_related("renewed_from__plan_sync_choice"):
        parent = plan.renewed_from.plan_sync_choice
        PlanChoice.objects.create(
            link=link,
            plan=plan,
            choice=Choice.CREATE_THERE,
            truth_details=parent.truth_details,
            truth_benefits=parent.truth_benefits,
            truth_rates=parent.truth_rates,
        )


def _has_work(choice: PlanChoice) -> bool:
    return (
        choice.state == State.PENDING
        or choice.needs_pull
        or choice.needs_rate_pull
        or (choice.plan_id is not None and choice.plan.version != choice.local_version)
    )


# --- the sweep -----------------------------------------------------------------------------------------


def plan_sync_sweep(*, now=None) -> int:
    """Beat, every minute: runs nobody holds (their worker died, or their message was lost) are queued and
    sent again (``core.jobs.jobs_sweep``); the next try picks up where the last one stopped."""
    return jobs_sweep(Run, enqueue=lambda pk: _task().delay(pk), queued_lease_seconds=settings.PLANSYNC_QUEUED_LEASE_SECONDS, now=now)
