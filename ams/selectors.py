"""Reads for the AMS link: lists through the shared FilterSets, and a record's Linked systems panel."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet

from integrations.models import ExternalId

from .filters import (
    ExternalIdFilterSet,
    IdentityConflictFilterSet,
    NotificationFilterSet,
    ReconciliationFilterSet,
    SyncAttemptFilterSet,
)
from .models import IdentityConflict, Notification, Reconciliation, SyncAttempt
from .permissions import viewable_content_types


def external_id_list(*, user, filters: dict | None = None) -> QuerySet:
    qs = ExternalId.objects.filter(content_type_id__in=viewable_content_types(user)).select_related("content_type", "superseded_by")
    return ExternalIdFilterSet(filters or {}, queryset=qs).qs


def identity_conflict_list(*, user, filters: dict | None = None) -> QuerySet:
    qs = IdentityConflict.objects.filter(content_type_id__in=viewable_content_types(user)).select_related("content_type", "decided_by")
    return IdentityConflictFilterSet(filters or {}, queryset=qs).qs


def reconciliation_list(*, filters: dict | None = None) -> QuerySet:
    return ReconciliationFilterSet(filters or {}, queryset=Reconciliation.objects.select_related("requested_by")).qs


def sync_attempt_list(*, user, filters: dict | None = None) -> QuerySet:
    from django.db.models import Q

    qs = SyncAttempt.objects.filter(Q(content_type_id__in=viewable_content_types(user)) | Q(content_type__isnull=True))
    return SyncAttemptFilterSet(filters or {}, queryset=qs.select_related("content_type")).qs


def notification_list(*, filters: dict | None = None) -> QuerySet:
    return NotificationFilterSet(filters or {}, queryset=Notification.objects.all()).qs


def far_side_url(row: ExternalId) -> str:
    """Where a person opens the far-side record: the AMS's or CRM's page for it."""
    base = settings.SANDBOX_URL.rstrip("/")
    if row.system == ExternalId.System.AMS and row.object_type == "customer":
        return (settings.AMS_RECORD_URL or f"{base}/_sandbox/ams/?id={{id}}").replace("{id}", row.external_id)
    if row.system == ExternalId.System.CRM and not settings.CRM_URL:
        return f"{base}/_sandbox/crm/"
    return ""


def linked_systems(obj) -> list[dict]:
    """The Linked systems panel: each system's ids of ``obj`` (and of its policies) with the name they stand
    for, last change seen, last sync and outcome, and a link to the far side."""
    ct = ContentType.objects.get_for_model(obj)
    rows = list(
        ExternalId.objects.filter(content_type=ct, object_id=obj.pk)
        .select_related("content_type", "superseded_by")
        .order_by("system", "status", "object_type")
    )
    policies = getattr(obj, "policies", None)
    if policies is not None:
        policy_ct = ContentType.objects.get_for_model(policies.model)
        rows += list(
            ExternalId.objects.filter(content_type=policy_ct, object_id__in=policies.values("pk"))
            .select_related("content_type")
            .order_by("external_id")
        )
    names = _linked_names(obj, rows)
    return [
        {
            "row": r,
            "name": names.get(r.pk, ""),
            "system": r.get_system_display(),
            "kind": r.object_type,
            "external_id": r.external_id,
            "status": r.get_status_display(),
            "superseded_by": r.superseded_by.external_id if r.superseded_by else "",
            "last_change_seen_at": r.last_change_seen_at,
            "last_synced_at": r.last_synced_at,
            "outcome": r.get_last_sync_outcome_display(),
            "reason": r.last_sync_reason,
            "url": far_side_url(r),
        }
        for r in rows
    ]


def _linked_names(obj, rows) -> dict[int, str]:
    """What each linked id names, as people say it (never the id alone): the record itself for a customer the
    AMS mirrors (the AMS owns its name), the benefits-admin account's name, a policy's coverage and number.
    At most two queries (the policies, the account link), whatever the number of rows."""
    own_ct = ContentType.objects.get_for_model(obj)
    names = {r.pk: str(obj) for r in rows if r.content_type_id == own_ct.pk}
    others = [r for r in rows if r.content_type_id != own_ct.pk]
    if others:
        model = others[0].content_type.model_class()
        found = model._default_manager.in_bulk([r.object_id for r in others])
        for r in others:
            record = found.get(r.object_id)
            if record is not None:
                names[r.pk] = str(record)  # "Medicare Advantage MA-1"
    accounts = [r for r in rows if r.system == ExternalId.System.BENEFITS_ADMIN and r.object_type == "account"]
    if accounts:
        from plansync.models import AccountLink

        link = AccountLink.objects.filter(group_id=obj.pk).only("account_name", "account_id").first() if own_ct.model == "employergroup" else None
        for r in accounts:
            if link is not None and str(link.account_id) == r.external_id:
                names[r.pk] = link.account_name
    return names
