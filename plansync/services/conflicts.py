"""A person's side of the sync: "Sync now" for a group, and resolving a conflict or a removal."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import AuditLog, User
from accounts.services import audit
from plans.models import Plan
from plans.services import plan_update

from ..models import AccountLink, PlanChoice, PlanSyncConflict, PlanSyncRun
from .runs import plan_sync_queue

Conflict = PlanSyncConflict


def plan_sync_request(*, actor: User | None, link: AccountLink, trigger: str = PlanSyncRun.Trigger.MANUAL) -> PlanSyncRun:
    """Queue a run for ``link``'s group, sent after commit ("Sync now"); returns it. A run waiting already is
    joined (and made due now); one running makes this one wait for it (runs never overlap)."""
    audit(actor=actor, action=AuditLog.Action.SYNC, obj=link, summary="Sync now requested")
    return plan_sync_queue(link_ids=[link.pk], trigger=trigger, actor=actor)[link.pk]


@transaction.atomic
def conflict_resolve(*, actor: User | None, conflict: PlanSyncConflict, resolution: str) -> PlanSyncConflict:
    """Settle a conflict with one side's value (the next run writes it to the other side), or a
    removal there with keep (stop syncing, the plan stays) / archive (the plan is cancelled here).

    Raises ``ValidationError`` for a resolution that doesn't fit the conflict or one resolved already.
    """
    conflict = Conflict.objects.select_for_update(of=("self",)).select_related("choice__plan", "choice__link").get(pk=conflict.pk)
    if conflict.status != Conflict.Status.OPEN:
        raise ValidationError({"resolution": "This conflict is resolved already."})
    allowed = (
        [Conflict.Resolution.AGENCYDESK, Conflict.Resolution.BENEFITS_ADMIN]
        if conflict.kind == Conflict.Kind.FIELD
        else [Conflict.Resolution.KEEP, Conflict.Resolution.ARCHIVE]
    )
    if resolution not in allowed:
        raise ValidationError({"resolution": f"Choose one of: {', '.join(Conflict.Resolution(r).label for r in allowed)}."})
    choice = conflict.choice
    if conflict.kind == Conflict.Kind.FIELD:
        # Make the chosen side the only one that changed since the snapshot: the next run copies it over.
        snapshot = dict(choice.snapshot)
        if resolution == Conflict.Resolution.AGENCYDESK:
            snapshot[conflict.field] = conflict.remote_value
            choice.local_version = 0  # the next run compares the plan again and sends it
        else:
            snapshot[conflict.field] = conflict.local_value
            choice.needs_pull = True
            if conflict.field == "rates":
                choice.needs_rate_pull = True
        choice.snapshot = snapshot
        choice.save(update_fields=["snapshot", "local_version", "needs_pull", "needs_rate_pull", "updated_at"])
    else:
        if resolution == Conflict.Resolution.ARCHIVE and choice.plan_id:
            plan_update(
                actor=actor,
                plan=choice.plan,
                data={"status": Plan.Status.CANCELLED, "cancellation_date": choice.plan.cancellation_date or timezone.localdate()},
            )
        choice.state = PlanChoice.State.ENDED
        choice.save(update_fields=["state", "updated_at"])
    conflict.status, conflict.resolution = Conflict.Status.RESOLVED, resolution
    conflict.resolved_by, conflict.resolved_at = actor if actor and actor.pk else None, timezone.now()
    conflict.save()
    audit(
        actor=actor,
        action=AuditLog.Action.UPDATE,
        obj=conflict,
        summary=f"Resolved: {conflict.get_resolution_display()}",
        data={"field": conflict.field, "resolution": resolution},
    )
    if conflict.kind == Conflict.Kind.FIELD:
        plan_sync_request(actor=actor, link=choice.link, trigger=PlanSyncRun.Trigger.RESOLVE)
    return conflict
