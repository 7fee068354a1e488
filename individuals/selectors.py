"""Reads for individuals: the advanced search through the shared FilterSet (``filters.criteria``)."""

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from accounts.models import User

from .filters import criteria_authorize, criteria_filterset
from .models import CustomField, Individual, Policy


def individual_list(*, filters=None, user: User | None = None, queryset: QuerySet | None = None, request=None, how: str = "search") -> QuerySet:
    """Individuals matching the advanced-search ``filters`` (a dict or QueryDict), agent joined.

    Raises ``ValidationError`` keyed by criterion for invalid criteria (``criteria_filterset``'s rules:
    unknown keys and bad values are refused, never dropped). ``user`` is checked for the Individuals
    view right (``PermissionDenied`` otherwise) and, for a search by SSN / MBI / driver's license, the
    right, throttle and audit of ``criteria_authorize`` (``how`` says where, for the audit log).
    """
    if user is not None and not user.has_perm("individuals.view_individual"):
        raise PermissionDenied
    base = queryset if queryset is not None else Individual.objects.select_related("servicing_agent")
    filterset = criteria_filterset({} if filters is None else filters, queryset=base, request=request)
    if user is not None:
        criteria_authorize(actor=user, data=filters or {}, how=how)
    return filterset.qs


# --- the quick search (integrations.search) and the client page ----------------------------------------
PHONE_PUNCTUATION = ("(", ")", "-", " ", ".", "+")


def _digits(column: str):
    """``column`` without phone punctuation, in SQL (portable: nested REPLACE, no regexp)."""
    from django.db.models import F, Value
    from django.db.models.functions import Replace

    expression = F(column)
    for char in PHONE_PUNCTUATION:
        expression = Replace(expression, Value(char), Value(""))
    return expression


def individual_quick_find(*, words: tuple[str, ...] = (), digits: str = "", email: bool = False, pks=(), limit: int = 8) -> list[Individual]:
    """Individuals for the quick search, in ONE query, personal-data secrets left in the database.

    Each word matches the start of the first, last or nick name or the city, or appears in the street
    address ("anderson elm"); a query of digits matches the cell or home phone, however it was typed; an
    email matches the primary or secondary email. ``pks``: records a linked system's id named (always in).
    Name prefixes walk the name index in display order up to ``limit``; the street and the phone are scanned (docs/individuals.md).
    """
    from django.db.models import Q

    match = Q()
    if digits:
        match = Q(cell_digits__contains=digits) | Q(home_digits__contains=digits)
    elif email:
        text = " ".join(words)
        match = Q(email__istartswith=text) | Q(secondary_email__istartswith=text)
    elif words:
        match = Q()
        for word in words:
            match &= (
                Q(last_name__istartswith=word)
                | Q(first_name__istartswith=word)
                | Q(nickname__istartswith=word)
                | Q(city__istartswith=word)
                | Q(address_line1__icontains=word)
            )
    else:
        match = Q(pk__in=[])
    if pks:
        match |= Q(pk__in=list(pks))
    qs = Individual.objects.all()
    if digits:
        qs = qs.alias(cell_digits=_digits("cell_phone"), home_digits=_digits("home_phone"))
    return list(
        qs.filter(match)
        .only(
            "first_name",
            "last_name",
            "nickname",
            "date_of_birth",
            "city",
            "state",
            "address_line1",
            "email",
            "cell_phone",
            "home_phone",
            "record_status",
            "ssn_last4",
        )
        .order_by("last_name", "first_name", "id")[:limit]
    )


def policy_quick_find(*, text: str, pks=(), limit: int = 8) -> list:
    """Policies whose number starts with ``text`` (case-insensitive: on PostgreSQL by an index on its upper case,
    migration 0010), holder and carrier joined; ONE query."""
    from django.db.models import Q

    match = Q(policy_number__istartswith=text) if len(text) >= 3 and " " not in text else Q(pk__in=[])
    if pks:
        match |= Q(pk__in=list(pks))
    return list(
        Policy.objects.filter(match)
        .select_related("individual", "carrier")
        .only(
            "policy_number",
            "coverage_type",
            "status",
            "renewal_date",
            "individual__first_name",
            "individual__last_name",
            "individual__date_of_birth",
            "individual__city",
            "carrier__name",
        )
        .order_by("policy_number", "id")[:limit]
    )


def individual_summary(*, individual: Individual, policies: bool = True) -> dict:
    """What the client page shows above the story: policies (carrier joined; ``policies=False``: none, for a
    user without the Policies right), custom field definitions used.

    Two queries at most. The panels other apps register (sales records, activities) come from ``core.related``.
    """
    policies = list(individual.policies.select_related("carrier").order_by("status", "renewal_date", "id")) if policies else []
    keys = list((individual.custom_fields or {}).keys())
    fields = {f.key: f for f in CustomField.objects.filter(key__in=keys)} if keys else {}
    return {"policies": policies, "custom_fields": fields}


TIMELINE_KINDS = {
    "edit": "Edits",
    "sync": "Syncs",
    "notification": "Notifications",
    "export": "Exports",
    "personal_data": "Personal data",
    "other": "Other",
}
TIMELINE_KIND_LABELS = {
    "edit": "Edit",
    "sync": "Sync",
    "notification": "Notification",
    "export": "Export",
    "personal_data": "Personal data",
    "other": "Other",
}


def individual_timeline(*, individual: Individual, policies: list | None = None, limit: int = 200) -> list[dict]:
    """What happened to the client, newest first, from the audit log (the individual and its policies) and the
    linked systems' sync stamps. Each entry: ``{"at", "kind", "kind_label", "title", "by", "changes": [(label, old, new)], "url"}``.

    Two queries whatever the length (audit rows; registry rows).
    """
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import Q

    from core.models import AuditLog
    from integrations.models import ExternalId

    if policies is None:  # [] keeps the policies' rows out (a user without the Policies right)
        policies = list(individual.policies.all())
    cts = ContentType.objects.get_for_models(Individual, Policy)
    ind_ct, pol_ct = cts[Individual], cts[Policy]
    where = Q(content_type=ind_ct, object_id=str(individual.pk))
    if policies:
        where |= Q(content_type=pol_ct, object_id__in=[str(p.pk) for p in policies])
    entries = []
    for row in AuditLog.objects.filter(where).select_related("actor").order_by("-created_at", "-id")[:limit]:
        entries.append(_audit_entry(row, ind_ct=ind_ct))
    links = ExternalId.objects.filter(content_type=ind_ct, object_id=individual.pk, last_synced_at__isnull=False)
    if policies:
        links = ExternalId.objects.filter(
            Q(pk__in=links.values("pk")) | Q(content_type=pol_ct, object_id__in=[p.pk for p in policies], last_synced_at__isnull=False)
        )
    for link in links:
        outcome = link.get_last_sync_outcome_display() or "done"
        entries.append(
            {
                "at": link.last_synced_at,
                "kind": "sync",
                "kind_label": TIMELINE_KIND_LABELS["sync"],
                "title": f"Last sync with the {link.get_system_display()} ({link.object_type} {link.external_id}): {outcome.lower()}",
                "by": link.get_system_display(),
                "changes": [],
                "detail": link.last_sync_reason,
                "url": "",
            }
        )
    entries.sort(key=lambda e: e["at"], reverse=True)
    return entries[:limit]


def _audit_entry(row, *, ind_ct) -> dict:
    from core import display
    from core.models import AuditLog
    from integrations.models import ExternalId

    data = row.data or {}
    system = data.get("system") or ""
    system_label = ExternalId.System(system).label if system in ExternalId.System.values else system
    if row.action in (AuditLog.Action.REVEAL, AuditLog.Action.SEARCH):
        kind = "personal_data"
    elif row.action == AuditLog.Action.EXPORT:
        kind = "export"
    elif row.action == AuditLog.Action.SYNC or system:
        kind = "sync"
    elif row.action in (AuditLog.Action.CREATE, AuditLog.Action.UPDATE, AuditLog.Action.DELETE, AuditLog.Action.IMPORT):
        kind = "edit"
    else:
        kind = "other"
    what = "" if row.content_type_id == ind_ct.pk else f"Policy {row.object_repr}: "
    changes = [
        (c.get("label") or display.humanize_key(name), c.get("old", display.EMPTY), c.get("new", display.EMPTY))
        for name, c in (data.get("changes") or {}).items()
    ]
    if row.action == AuditLog.Action.UPDATE and not changes and not row.summary:
        title = "Saved without changes"
    else:
        title = row.summary if row.summary and not changes else row.get_action_display()
    if row.actor_id:
        by = row.actor.get_full_name() or row.actor_repr if row.actor else row.actor_repr
    elif system_label:
        by = f"{system_label} (sync)"
    else:
        by = row.actor_repr or "The system"
    return {
        "at": row.created_at,
        "kind": kind,
        "kind_label": TIMELINE_KIND_LABELS[kind],
        "title": what + title,
        "by": by,
        "changes": changes,
        "detail": "",
        "url": "",
    }
