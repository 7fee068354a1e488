"""The benefits platform's lines of an employer group's timeline (``core.timeline``): its employees' syncs.

Registered from ``HrsyncConfig.ready()`` (plans never imports hrsync); one query for the lines, one to count.
"""

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


def register() -> None:
    timeline.register(
        timeline.rows_source(
            key="employee_syncs",
            model="plans.employergroup",
            kind="sync",
            permission="hrsync.view_syncattempt",
            rows=lambda group: _attempts(group).select_related("employee", "requested_by"),
            entry=_entry,
        )
    )
