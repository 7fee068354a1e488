"""Sales activity on a client's timeline (``core.timeline``): the sales record made for them, its workflow
emails and its activities, limited to the record types the user may view.

Registered from ``SalesrecordsConfig.ready()``; each source reads in one query (and one to count).
"""

from django.db.models import Count

from core import timeline

from .models import Activity, SalesRecord, WorkflowEmail
from .rights import allowed_types

MODEL = "individuals.individual"


def _types(user) -> list[int]:
    """The record types ``user`` may view, read once per request (kept on the user object)."""
    if not hasattr(user, "_timeline_sales_types"):
        user._timeline_sales_types = list(allowed_types(user, "view").values_list("pk", flat=True))
    return user._timeline_sales_types


def _record_entries(individual, *, user, kinds, limit, before):
    """At most one sales record per individual (a unique column): read once, counted from it."""
    entries = []
    for r in SalesRecord.objects.filter(individual_id=individual.pk, record_type__in=_types(user)).select_related(
        "record_type", "assigned_user", "job__created_by"
    )[:limit]:
        if r.job_id:
            by, source, how = timeline.person_name(r.job.created_by, "A mass creation"), "job", f" by mass creation #{r.job_id}"
        else:
            by, source, how = "", "", ""  # made by hand: the record does not keep by whom
        entries.append(
            timeline.Entry(
                at=r.created_at,
                kind="sales",
                title=f"Sales record created ({r.record_type}){how}",
                by=by,
                source=source,
                detail=f"Stage: {r.get_stage_display()}",
            )
        )
    return entries


def _emails(individual, user):
    return WorkflowEmail.objects.filter(run__sales_record__individual_id=individual.pk, run__sales_record__record_type__in=_types(user))


def _email_state(e) -> str:
    return "sent" if e.status == WorkflowEmail.Status.SUCCEEDED else e.get_status_display().lower()


def _email_entries(individual, *, user, kinds, limit, before):
    qs = _emails(individual, user).select_related("run__workflow")
    return [
        timeline.Entry(
            at=e.finished_at or e.created_at,
            kind="sales",
            title=f"Workflow email {_email_state(e)}",
            by=f"workflow “{e.run.workflow.name}”",
            source="job",
            detail=e.reason if e.status != WorkflowEmail.Status.SUCCEEDED else "",
        )
        for e in timeline.newest(qs, before=before, limit=limit)
    ]


def _activities(individual, user):
    return Activity.objects.filter(sales_record__individual_id=individual.pk, sales_record__record_type__in=_types(user))


def _activity_entries(individual, *, user, kinds, limit, before):
    qs = _activities(individual, user).select_related("assigned_to", "workflow")
    return [
        timeline.Entry(
            at=a.created_at,
            kind="sales",
            title=f"Activity “{a.subject}” created" + (" (done)" if a.done else ""),
            by=f"workflow “{a.workflow.name}”" if a.workflow_id else "",
            source="job" if a.workflow_id else "",
            detail=f"For {timeline.person_name(a.assigned_to)}" if a.assigned_to_id else "",
        )
        for a in timeline.newest(qs, before=before, limit=limit)
    ]


def register() -> None:
    view = "salesrecords.view_salesrecord"
    timeline.register(timeline.Source(key="sales_records", model=MODEL, kinds=("sales",), permission=view, entries=_record_entries))
    timeline.register(
        timeline.Source(
            key="sales_emails",
            model=MODEL,
            kinds=("sales",),
            permission=view,
            entries=_email_entries,
            count=lambda individual, *, user: {"sales": _emails(individual, user).aggregate(n=Count("id"))["n"]},
        )
    )
    timeline.register(
        timeline.Source(
            key="sales_activities",
            model=MODEL,
            kinds=("sales",),
            permission="salesrecords.view_activity",
            entries=_activity_entries,
            count=lambda individual, *, user: {"sales": _activities(individual, user).aggregate(n=Count("id"))["n"]},
        )
    )
