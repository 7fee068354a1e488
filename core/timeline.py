"""A record's timeline: everything that happened to it, from every app that did something to it.

The record's own app reads its audit rows; the apps that work on its records (syncs, notifications,
sales, exports) register a ``Source`` for its model from their ``AppConfig.ready()``, so a record app
never imports them (as ``core.related`` does for panels)::

    # ams/apps.py
    timeline.register(timeline.Source(key="ams_syncs", model="individuals.individual", kinds=("sync",),
                                      permission="individuals.view_individual", entries=..., count=...))

``entries(obj, user, kinds, limit, before)`` returns at most ``limit`` ``Entry`` of the asked ``kinds``, newest
first, older than ``before`` (a datetime, or None), in a fixed number of queries; ``count(obj, user)`` returns
``{kind: n}`` in a fixed number of queries. ``read`` merges them: the page's query count is bounded by the
number of sources, never by the number of entries.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from core.display import datetime_text

# The kinds people filter by, in the order of the filter bar.
KINDS: dict[str, str] = {
    "edit": "Edits",
    "sync": "Syncs",
    "notification": "AMS notifications",
    "sales": "Sales activity",
    "export": "Exports",
    "personal_data": "Personal data",
    "other": "Other",
}
KIND_LABELS: dict[str, str] = {
    "edit": "Edit",
    "sync": "Sync",
    "notification": "Notification",
    "sales": "Sales",
    "export": "Export",
    "personal_data": "Personal data",
    "other": "Other",
}
SOURCE_LABELS = {
    "person": "Made by a person",
    "job": "Made by a background job",
    "sync": "Made by a sync with an outside system",
    "notification": "Made on a notification from the AMS",
    "system": "Made by AgencyDesk itself",
}
PAGE = 50
MAX_PAGE = 200


@dataclass
class Entry:
    """One line of the timeline: when, what kind, what happened, who or which system did it."""

    at: datetime.datetime
    kind: str
    title: str
    by: str
    source: str = ""  # "person", "job", "sync", "notification", "system"
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # (label, old, new)
    detail: str = ""
    url: str = ""

    @property
    def source_label(self) -> str:
        return SOURCE_LABELS.get(self.source, "")

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    def as_dict(self) -> dict:
        return {
            "at": self.at,
            "kind": self.kind,
            "kind_label": self.kind_label,
            "title": self.title,
            "by": self.by,
            "source": self.source,
            "changes": [{"field": label, "old": old, "new": new} for label, old, new in self.changes],
            "detail": self.detail,
            "url": self.url,
        }


@dataclass(frozen=True)
class Source:
    key: str
    model: str  # "individuals.individual"
    kinds: tuple[str, ...]
    permission: str
    entries: Callable[..., list[Entry]]  # (obj, *, user, kinds, limit, before) -> newest first
    count: Callable[..., dict[str, int]] | None = None  # (obj, *, user) -> {kind: n}; None: few entries, counted from them


_SOURCES: dict[str, dict[str, Source]] = {}


def newest(queryset, *, before, limit: int) -> list:
    """A source's rows: those of ``queryset`` created before ``before`` (None: any), newest first, ``limit`` at most."""
    if before is not None:
        queryset = queryset.filter(created_at__lt=before)
    return list(queryset.order_by("-created_at", "-id")[:limit])


def rows_source(*, key: str, model: str, kind: str, permission: str, rows: Callable, entry: Callable[..., Entry]) -> Source:
    """A source of one ``kind`` whose lines are the rows of one queryset (``rows(obj)``), each shown by
    ``entry(row)``: one query for a page of lines, one to count them."""
    return Source(
        key=key,
        model=model,
        kinds=(kind,),
        permission=permission,
        entries=lambda obj, *, user, kinds, limit, before: [entry(row) for row in newest(rows(obj), before=before, limit=limit)],
        count=lambda obj, *, user: {kind: rows(obj).count()},
    )


def register(source: Source) -> Source:
    _SOURCES.setdefault(source.model.lower(), {})[source.key] = source
    return source


def sources_for(obj, user) -> list[Source]:
    return [s for s in _SOURCES.get(obj._meta.label_lower, {}).values() if user is None or user.has_perm(s.permission)]


def read(obj, *, user, kind: str = "", before: datetime.datetime | None = None, limit: int = PAGE, counts: bool = True) -> dict:
    """``{"entries": [Entry], "counts": {kind: n}, "more": bool}``: the record's timeline as ``user`` may see it,
    newest first, of one ``kind`` (or all), older than ``before``. Two queries or so per source (entries, counts)."""
    limit = max(1, min(int(limit), MAX_PAGE))
    sources = sources_for(obj, user)
    entries: list[Entry] = []
    totals: dict[str, int] = {}
    for source in sources:
        kinds = tuple(k for k in source.kinds if not kind or k == kind)
        if source.count is None:  # a short list (bounded by the source): read once, counted and paged here
            every = source.entries(obj, user=user, kinds=source.kinds, limit=MAX_PAGE, before=None)
            entries += [e for e in every if e.kind in kinds and (before is None or e.at < before)][: limit + 1]
            found = {k: sum(1 for e in every if e.kind == k) for k in source.kinds}
        else:
            if kinds:
                entries += source.entries(obj, user=user, kinds=kinds, limit=limit + 1, before=before)
            found = source.count(obj, user=user) if counts else {}
        for k, n in found.items():
            totals[k] = totals.get(k, 0) + n
    entries.sort(key=lambda e: e.at, reverse=True)
    return {"entries": entries[:limit], "counts": {k: totals[k] for k in KINDS if totals.get(k)}, "more": len(entries) > limit}


def filters(counts: dict[str, int]) -> Iterable[tuple[str, str, int]]:
    """The filter bar: ("", "Everything", total), then each kind present."""
    yield "", "Everything", sum(counts.values())
    for key, label in KINDS.items():
        if counts.get(key):
            yield key, label, counts[key]


# --- the outside systems' names (``integrations`` fills them from its registry at start-up) -----------
SYSTEMS: dict[str, str] = {}  # "ams" -> "AMS"


def system_name(code: str) -> str:
    return SYSTEMS.get(code, code)


def person_name(user, fallback: str = "") -> str:
    """A person's name as people say it (never the username when a name is known)."""
    if user is None:
        return fallback
    return user.get_full_name() or user.get_username() or fallback


# --- a record's audit rows as entries (each record app declares its own with ``audit_source``) --------
def _audit_actions() -> dict[str, list[str]]:
    from .models import AuditLog

    a = AuditLog.Action
    return {
        "edit": [a.CREATE, a.UPDATE, a.DELETE, a.IMPORT, a.SYNC, a.BULK],
        "personal_data": [a.REVEAL, a.SEARCH],
        "export": [a.EXPORT],
        "other": [a.OTHER, a.LOGIN_FAILED],
    }


def audit_by(row) -> tuple[str, str]:
    """(who, source) of an audit row: the person; else the outside system whose sync wrote it; else the system."""
    system = (row.data or {}).get("system") or ""
    if row.actor_id:
        return person_name(row.actor, row.actor_repr), "person"
    if system:
        return f"{system_name(system)} (sync)", "sync"
    if (row.data or {}).get("job"):
        return row.actor_repr or "A background job", "job"
    return row.actor_repr or "The system", "system"


def audit_entry(row, *, prefix: str = "") -> Entry:
    from . import display
    from .models import AuditLog

    data = row.data or {}
    kind = next((k for k, actions in _audit_actions().items() if row.action in actions), "other")
    changes = [
        (c.get("label") or display.humanize_key(name), display.text(c.get("old")), display.text(c.get("new")))
        for name, c in (data.get("changes") or {}).items()
        if isinstance(c, dict)
    ]
    if row.action == AuditLog.Action.UPDATE and not changes and not row.summary:
        title = "Saved without changes"
    else:
        title = row.summary if row.summary and not changes else row.get_action_display()
    by, source = audit_by(row)
    return Entry(at=row.created_at, kind=kind, title=prefix + title, by=by, source=source, changes=changes)


def audit_source(*, key: str, model: str, kinds: tuple[str, ...], permission: str, where, prefix=None) -> Source:
    """A ``Source`` over the audit rows ``where(obj)`` (a Q) selects; ``prefix(row)`` starts a row's title."""
    from django.db.models import Count

    from .models import AuditLog

    def actions(ks) -> list[str]:
        table = _audit_actions()
        return [a for k in ks for a in table[k]]

    def entries(obj, *, user, kinds, limit, before):
        qs = AuditLog.objects.filter(where(obj), action__in=actions(kinds)).select_related("actor")
        return [audit_entry(r, prefix=prefix(r) if prefix else "") for r in newest(qs, before=before, limit=limit)]

    def count(obj, *, user):
        table = _audit_actions()
        totals: dict[str, int] = {}
        for row in AuditLog.objects.filter(where(obj), action__in=actions(kinds)).values("action").annotate(n=Count("id")).order_by():
            k = next(k for k in kinds if row["action"] in table[k])
            totals[k] = totals.get(k, 0) + row["n"]
        return totals

    return Source(key=key, model=model, kinds=kinds, permission=permission, entries=entries, count=count)


# --- where a value came from (the summary pages' "from AMS, 2 Dec 10:02" and hover text) ---------------
SOURCE_WORDS = {"person": "", "job": "a job", "sync": "a sync", "notification": "a notification", "system": "the system"}


def provenance(origin: dict | None) -> dict:
    """``{"badge": "from AMS, 2 Dec 10:02" or "", "title": "Last changed 2 Dec 10:02 by Ann Lee"}`` for a value's
    origin (``individual_provenance`` rows: at, by, source, system, created, owner, owner_synced_at)."""
    if not origin:
        return {"badge": "", "title": ""}
    title = ""
    if origin.get("at"):
        verb = "Set when the record was created" if origin.get("created") else "Last changed"
        by = origin.get("by") or "the system"
        how = SOURCE_WORDS.get(origin.get("source", ""), "")
        title = f"{verb} {datetime_text(origin['at'])} by {by}" + (f" ({how})" if how and how.split()[-1] not in by.lower() else "")
    badge = ""
    owner = origin.get("owner")
    if owner:
        at = origin.get("at") if origin.get("system") == owner else origin.get("owner_synced_at")
        badge = f"from {system_name(owner)}" + (f", {datetime_text(at)}" if at else "")
        title = (title + ". " if title else "") + f"{system_name(owner)} owns this value: change it there."
    return {"badge": badge, "title": title}


ORIGIN_ROWS = 300  # a record's latest audit rows read for the last change of each of its values


def value_origins(obj, *, owners: dict | None = None) -> dict[str, dict]:
    """``{field: {"at", "by", "source", "system", "created", "owner", "owner_synced_at"}}``: the last change of each
    field of ``obj`` in its audit log (one query over its latest ``ORIGIN_ROWS`` rows; a value unchanged since the
    record was created names the creation), merged with ``owners`` (``integrations.ownership.owned_fields``)."""
    from django.contrib.contenttypes.models import ContentType

    from .models import AuditLog

    a = AuditLog.Action
    rows = (
        AuditLog.objects.filter(
            content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk), action__in=[a.CREATE, a.UPDATE, a.IMPORT, a.SYNC]
        )
        .select_related("actor")
        .order_by("-created_at", "-id")[:ORIGIN_ROWS]
    )
    found: dict[str, dict] = {}
    created = None
    for row in rows:
        data = row.data or {}
        by, source = audit_by(row)
        origin = {"at": row.created_at, "by": by, "source": source, "system": data.get("system") or "", "created": False}
        if row.action == a.CREATE:
            created = {**origin, "created": True}
        names = list((data.get("changes") or {}).keys()) or [n for n in data.get("fields") or [] if isinstance(n, str)]
        for name in names:
            found.setdefault(name, origin)
    owners = owners or {}
    result = {}
    for name in {f.name for f in obj._meta.concrete_fields} | set(found) | set(owners):
        origin = found.get(name) or created
        owner = owners.get(name)
        if origin is None and owner is None:
            continue
        result[name] = {**(origin or {}), "owner": owner["system"] if owner else "", "owner_synced_at": owner["synced_at"] if owner else None}
    return result


def summary_context(request, obj, *, base: str, anchor: str, read: Callable[..., dict]) -> dict:
    """A summary page's timeline, as ``admin/agencydesk/timeline.html`` shows it: the page that
    ``?timeline=<kind>&before=<ISO time>`` asks for, read by ``read(obj, user=, kind=, before=)`` (``read`` or an
    app's selector), with its filters, "Older" and "Newest" links (``base``: the page's URL; ``anchor``: the section's id)."""
    from urllib.parse import urlencode

    from django.utils.dateparse import parse_datetime

    kind = request.GET.get("timeline", "")
    kind = kind if kind in KINDS else ""
    try:
        before = parse_datetime(request.GET.get("before", "")) if request.GET.get("before") else None
    except ValueError:
        before = None
    story = read(obj, user=request.user, kind=kind, before=before)
    entries, older = story["entries"], ""
    if story["more"] and entries:
        older = f"{base}?{urlencode({**({'timeline': kind} if kind else {}), 'before': entries[-1].at.isoformat()})}#{anchor}"
    return {
        "timeline": entries,
        "timeline_anchor": anchor,
        "timeline_kind": kind,
        "timeline_older": older,
        "timeline_newest": f"{base}?timeline={kind}#{anchor}" if kind else f"{base}#{anchor}",
        "timeline_paged": before is not None,
        "timeline_filters": [
            {"key": k, "label": label, "url": (f"{base}?timeline={k}" if k else base), "count": n} for k, label, n in filters(story["counts"])
        ],
    }
