"""Thin Celery tasks for the plan sync: ids in, one service call each."""

from celery import shared_task

from .models import PlanSyncRun


@shared_task(ignore_result=True)
def plan_sync_hourly_task() -> int:
    """Beat, hourly: one pass over every linked group with changes on either side."""
    from .services import plan_sync_pass

    return len(plan_sync_pass(trigger=PlanSyncRun.Trigger.HOURLY))


@shared_task(ignore_result=True)
def plan_sync_run_task(run_id: int) -> None:
    """Run one queued plan sync run; a duplicate delivery is a no-op (the claim is conditional)."""
    from .services import plan_sync_run

    plan_sync_run(run_id=run_id)


@shared_task(ignore_result=True)
def plan_sync_sweep_task() -> int:
    """Beat, every minute: runs nobody holds are queued and sent again."""
    from .services import plan_sync_sweep

    return plan_sync_sweep()


@shared_task(ignore_result=True)
def plan_sync_group_task(link_id: int, user_id: int | None = None, trigger: str = PlanSyncRun.Trigger.MANUAL) -> None:
    """Messages sent before runs were rows ("Sync now" for a group): queue its run now."""
    from accounts.models import User

    from .services import plan_sync_queue

    actor = User.objects.filter(pk=user_id).first() if user_id else None
    plan_sync_queue(link_ids=[link_id], trigger=trigger, actor=actor)
