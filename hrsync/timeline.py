"""The benefits platform's lines of an employer group's timeline (``core.timeline``): its employees' syncs.

Registered from ``HrsyncConfig.ready()`` (plans never imports hrsync); one query for the lines, one to count.
"""

from django.db.models import Count

from core import timeline

from .models import SyncAttempt


def _attempts(group):
    return SyncAttempt.objects.filter(employee__employer_group_id=group.pk)


def _entry(a: SyncAttempt) -> timeline.Entry:
    what = a.get_action_display() or "Sync"
    state = a.get_status_display().lower()
    return timeline.Entry(
        at=a.created_at,
        kind="sync",
        title=f"Benefits platform · {a.employee.first_name} {a.employee.last_name}: {what.lower()}, {state}",
        by=timeline.person_name(a.requested_by) if a.requested_by_id else "Benefits platform (sync)",
        source="person" if a.requested_by_id else "sync",
        detail=a.reason if a.status != SyncAttempt.Status.SUCCEEDED else "",
    )


def _entries(group, *, user, kinds, limit, before):
    qs = _attempts(group).select_related("employee", "requested_by")
    return [_entry(a) for a in timeline.newest(qs, before=before, limit=limit)]


def register() -> None:
    timeline.register(
        timeline.Source(
            key="employee_syncs",
            model="plans.employergroup",
            kinds=("sync",),
            permission="hrsync.view_syncattempt",
            entries=_entries,
            count=lambda group, *, user: {"sync": _attempts(group).aggregate(n=Count("id"))["n"]},
        )
    )
