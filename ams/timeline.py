"""The AMS's lines of a client's or an employer group's timeline (``core.timeline``): syncs and notifications.

Registered from ``AmsConfig.ready()`` for the records the AMS mirrors; each source reads in one query
(entries) and one (counts), whatever the number of rows. Seen by whoever may view the record
(``ams.permissions``: the sync queue follows the rights on the records it concerns).
"""

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Q

from core import display, timeline
from integrations.models import ExternalId

from .mapping import CUSTOMER, SYSTEM
from .models import Notification, SyncAttempt

TITLES = {
    SyncAttempt.Direction.FROM_AMS: "Brought from the AMS",
    SyncAttempt.Direction.TO_CRM: "Pushed to the CRM",
}
BY = {SyncAttempt.Direction.FROM_AMS: "AMS (sync)", SyncAttempt.Direction.TO_CRM: "CRM push"}


def _attempts(obj):
    return SyncAttempt.objects.filter(content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk)


def _attempt_entry(a: SyncAttempt) -> timeline.Entry:
    if a.operation == SyncAttempt.Operation.REMOVE:
        title = "Removed from the CRM"
    else:
        title = TITLES.get(a.direction, a.get_direction_display())
    state = a.outcome if a.status == SyncAttempt.Status.SUCCEEDED and a.outcome else a.get_status_display().lower()
    changed = ", ".join(display.humanize_key(c) for c in (a.changes or []) if isinstance(c, str))
    detail = a.reason if a.status != SyncAttempt.Status.SUCCEEDED else (f"Changed: {changed}" if changed else "")
    if a.requested_by_id:
        by, source = timeline.person_name(a.requested_by), "person"
    elif a.notification_id:
        by, source = "AMS notification", "notification"
    elif a.reconciliation_id:
        by, source = "AMS reconciliation", "job"
    else:
        by, source = BY.get(a.direction, "The system"), "sync"
    return timeline.Entry(at=a.created_at, kind="sync", title=f"{title}: {state}", by=by, source=source, detail=detail)


def _sync_entries(obj, *, user, kinds, limit, before):
    qs = _attempts(obj).select_related("requested_by")
    return [_attempt_entry(a) for a in timeline.newest(qs, before=before, limit=limit)]


def _sync_count(obj, *, user):
    return {"sync": _attempts(obj).count()}


def _notifications(obj):
    """The notifications about the record's AMS customer ids (a retired id's too), in one statement."""
    ids = ExternalId.objects.filter(
        system=SYSTEM, object_type=CUSTOMER, content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk
    ).values("external_id")
    return Notification.objects.filter(Q(record_type="Customer", record_id__in=ids) | Q(customer_id__in=ids))


def _notification_entry(n: Notification) -> timeline.Entry:
    what = f"{n.record_type} {n.action.lower()}".strip() if n.action else n.record_type
    if n.status == Notification.Status.SUCCEEDED:
        state = "ignored" if n.ignored else "applied"
    else:
        state = n.get_status_display().lower()
    detail = n.reason if n.reason and (n.ignored or n.status != Notification.Status.SUCCEEDED) else ""
    if n.deliveries > 1:
        detail = f"{detail} Delivered {n.deliveries} times.".strip()
    return timeline.Entry(
        at=n.created_at, kind="notification", title=f"AMS notification: {what}, {state}", by="AMS", source="notification", detail=detail
    )


def _notification_entries(obj, *, user, kinds, limit, before):
    qs = _notifications(obj)
    return [_notification_entry(n) for n in timeline.newest(qs, before=before, limit=limit)]


def _notification_count(obj, *, user):
    return {"notification": _notifications(obj).aggregate(n=Count("id"))["n"]}


def register() -> None:
    for model, permission in (("individuals.individual", "individuals.view_individual"), ("plans.employergroup", "plans.view_employergroup")):
        timeline.register(
            timeline.Source(key="ams_syncs", model=model, kinds=("sync",), permission=permission, entries=_sync_entries, count=_sync_count)
        )
        timeline.register(
            timeline.Source(
                key="ams_notifications",
                model=model,
                kinds=("notification",),
                permission=permission,
                entries=_notification_entries,
                count=_notification_count,
            )
        )
