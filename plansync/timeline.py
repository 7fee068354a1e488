"""The benefits-admin system's lines of an employer group's timeline (``core.timeline``): its plan sync runs.

Registered from ``PlansyncConfig.ready()`` (plans never imports plansync); one query for the lines, one to count.
"""

from django.urls import reverse

from core import timeline
from core.jobs import Status

from .models import PlanSyncRun


def _runs(group):
    return PlanSyncRun.objects.filter(link__group_id=group.pk)


def _entry(run: PlanSyncRun) -> timeline.Entry:
    return timeline.Entry(
        at=run.created_at,
        kind="sync",
        title=f"Plan sync with the benefits-admin system ({run.get_trigger_display().lower()}): {run.get_status_display().lower()}",
        by=timeline.person_name(run.requested_by) if run.requested_by_id else "Benefits-admin system (sync)",
        source="person" if run.requested_by_id else "sync",
        detail=run.reason if run.status != Status.SUCCEEDED else "",
        url=reverse("admin:plansync_plansyncrun_change", args=[run.pk]),
    )


def register() -> None:
    timeline.register(
        timeline.rows_source(
            key="plan_sync_runs",
            model="plans.employergroup",
            kind="sync",
            permission="plansync.view_plansyncrun",
            rows=lambda group: _runs(group).select_related("requested_by"),
            entry=_entry,
        )
    )
