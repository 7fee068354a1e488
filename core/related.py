"""Related-record panels under a record's form (``templates/admin/agencydesk/related.html``).

A record's page shows its own panels and those other apps register for its model, so an app never
imports the app that shows more about its records. A registered panel is a list of rows, declared
once from the registering app's ``admin.py``::

    # hrsync/admin.py — the employees of a group, under the employer group's form
    from core import related

    related.register(related.RelatedPanel(
        key="employees", model="plans.employergroup", title="Employees", permission="hrsync.view_employee",
        columns=["Employee", "Email"], rows=lambda request, group: Employee.objects.filter(employer_group=group),
        cells=lambda e: [f"{e.first_name} {e.last_name}", e.email],
    ))

The page's admin asks ``related.panels_for(request, obj)`` (the panels this user may see, in the
order registered), then adds its own and ``audit_panel``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

from . import display

PANEL_ROWS = 20


def admin_url(obj) -> str:
    try:
        return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return ""


def panel(key: str, title: str, columns: list[str], rows: list[dict], *, empty: str = "None yet.", more_url: str = "") -> dict:
    """``rows``: ``[{"url": ..., "cells": [...]}]``, at most ``PANEL_ROWS`` (more -> "See all")."""
    return {
        "key": key,
        "title": title,
        "columns": columns,
        "rows": rows[:PANEL_ROWS],
        "empty": empty,
        "more_url": more_url if len(rows) > PANEL_ROWS else "",
    }


def audit_panel(obj, *, user) -> dict:
    """The record's audit trail: who changed what, old → new."""
    from django.contrib.contenttypes.models import ContentType

    from core.models import AuditLog

    if not user.has_perm("accounts.view_auditlog"):
        return {}
    ct = ContentType.objects.get_for_model(obj)
    entries = list(AuditLog.objects.filter(content_type=ct, object_id=str(obj.pk)).order_by("-created_at", "-id")[: PANEL_ROWS + 1])
    url = reverse("admin:accounts_auditlog_changelist") + f"?content_type__id__exact={ct.pk}&q={obj.pk}"
    rows = [
        {
            "url": reverse("admin:accounts_auditlog_change", args=[e.pk]),
            "cells": [
                display.datetime_text(e.created_at),
                e.actor_repr or "system",
                e.get_action_display(),
                display.changes_text((e.data or {}).get("changes") or {}) or e.summary or display.EMPTY,
            ],
        }
        for e in entries
    ]
    return panel("audit", "Audit trail", ["When", "By", "What", "Changes"], rows, empty="No changes recorded.", more_url=url)


@dataclass(frozen=True)
class RelatedPanel:
    """Rows of another app shown under a record's form; ``model`` is the record's ``app_label.model``.

    ``rows(request, obj)``: the rows, ordered (a queryset or a list; at most ``PANEL_ROWS + 1`` are
    read); ``cells(row)``: the row's cells, one per column; ``url(row)``: where a row links (default:
    its admin change page); ``more_url(obj)``: "See all" when there are more than ``PANEL_ROWS``.
    """

    key: str
    model: str
    title: str
    permission: str
    columns: list[str]
    rows: Callable[..., Iterable]
    cells: Callable[..., list]
    empty: str = "None yet."
    url: Callable[..., str] = admin_url
    more_url: Callable[..., str] | None = None


_PANELS: dict[str, dict[str, RelatedPanel]] = {}


def register(related_panel: RelatedPanel) -> RelatedPanel:
    """Add (or replace, by model and key) a panel under the pages of ``related_panel.model``."""
    _PANELS.setdefault(related_panel.model.lower(), {})[related_panel.key] = related_panel
    return related_panel


def panels_for(request, obj) -> list[dict]:
    """The registered panels for ``obj``'s model that this user may see, rows read, in the order registered."""
    panels = []
    for spec in _PANELS.get(obj._meta.label_lower, {}).values():
        if not request.user.has_perm(spec.permission):
            continue
        rows = list(spec.rows(request, obj)[: PANEL_ROWS + 1])
        panels.append(
            panel(
                spec.key,
                spec.title,
                spec.columns,
                [{"url": spec.url(row), "cells": spec.cells(row)} for row in rows],
                empty=spec.empty,
                more_url=spec.more_url(obj) if spec.more_url else "",
            )
        )
    return panels
