"""A plan edited here reaches the benefits-admin system on its own: ``plans`` calls ``plan_changed`` (subscribed
from ``PlansyncConfig.ready()``; plans never imports plansync) inside the transaction that changed the plan,
and a run of its group is queued there -- the outbox: the run row commits with the edit, its message is sent
after commit. The hourly pass stays the safety net. The sync's own writes here (``sync_writes()``) queue nothing."""

import contextlib
import contextvars
from collections.abc import Iterator

from plans.models import Plan

from ..models import PlanChoice, PlanSyncRun

_sync_writing = contextvars.ContextVar("plansync_writing", default=False)


@contextlib.contextmanager
def sync_writes() -> Iterator[None]:
    """Plans written by the sync itself inside this block: not an edit to send back."""
    token = _sync_writing.set(True)
    try:
        yield
    finally:
        _sync_writing.reset(token)


def plan_changed(plan: Plan) -> None:
    """Queue a run for the group of ``plan`` when it syncs (or renews a plan that does), after commit."""
    if _sync_writing.get():
        return
    syncing = [PlanChoice.State.PENDING, PlanChoice.State.SYNCED]
    link_id = PlanChoice.objects.filter(plan=plan, state__in=syncing).values_list("link_id", flat=True).first() or (
        PlanChoice.objects.filter(plan_id=plan.renewed_from_id, state=PlanChoice.State.SYNCED).values_list("link_id", flat=True).first()
        if plan.renewed_from_id
        else None
    )
    if link_id is not None:
        from .runs import plan_sync_queue

        plan_sync_queue(link_ids=[link_id], trigger=PlanSyncRun.Trigger.EDIT)
