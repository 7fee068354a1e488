"""Thin Celery tasks for the plan sync: ids in, one service call each."""
from celery import shared_task

from .models import PlanSyncRun


@shared_task(ignore_result=True)
def plan_sync_hourly_task() -> int:
    """Beat, hourly: one pass over every linked group with changes on either side."""
    from .services import plan_sync_pass

    return len(plan_sync_pass(trigger=PlanSyncRun.Trigger.HOURLY))


@shared_task(ignore_result=True)
def plan_sync_group_task(link_id: int, user_id: int | None = None, trigger: str = PlanSyncRun.Trigger.MANUAL) -> None:
    """"Sync now" for one group (a run in progress makes this one a skipped run)."""
    from accounts.models import User

    from .services import plan_sync_pass

    actor = User.objects.filter(pk=user_id).first() if user_id else None
    plan_sync_pass(trigger=trigger, actor=actor, link_ids=[link_id])
