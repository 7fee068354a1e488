"""Related-record panels under a record's form (``templates/admin/agencydesk/related.html``)."""
from django.urls import NoReverseMatch, reverse
from django.utils.formats import date_format
from django.utils.timezone import localtime

from . import display

PANEL_ROWS = 20


def admin_url(obj) -> str:
    try:
        return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return ""


def panel(key: str, title: str, columns: list[str], rows: list[dict], *, empty: str = "None yet.", more_url: str = "") -> dict:
    """``rows``: ``[{"url": ..., "cells": [...]}]``, at most ``PANEL_ROWS`` (more -> "See all")."""
    return {"key": key, "title": title, "columns": columns, "rows": rows[:PANEL_ROWS], "empty": empty,
            "more_url": more_url if len(rows) > PANEL_ROWS else ""}


def audit_panel(obj, *, user) -> dict:
    """The record's audit trail: who changed what, old → new."""
    from django.contrib.contenttypes.models import ContentType

    from accounts.models import AuditLog

    if not user.has_perm("accounts.view_auditlog"):
        return {}
    ct = ContentType.objects.get_for_model(obj)
    entries = list(AuditLog.objects.filter(content_type=ct, object_id=str(obj.pk)).order_by("-created_at", "-id")[:PANEL_ROWS + 1])
    url = reverse("admin:accounts_auditlog_changelist") + f"?content_type__id__exact={ct.pk}&q={obj.pk}"
    rows = [{"url": reverse("admin:accounts_auditlog_change", args=[e.pk]),
             "cells": [date_format(localtime(e.created_at), "SHORT_DATETIME_FORMAT"), e.actor_repr or "system",
                       e.get_action_display(),
                       display.changes_text((e.data or {}).get("changes") or {}) or e.summary or display.EMPTY]}
            for e in entries]
    return panel("audit", "Audit trail", ["When", "By", "What", "Changes"], rows, empty="No changes recorded.", more_url=url)
