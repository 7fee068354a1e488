"""The home page's panels: a small registry every app adds to from its ``admin.py``.

A panel belongs to a section of the home (``MY_WORK``, ``JOBS``, ``QUEUES``, ``AWAITING``), needs one
permission to be shown, and returns its rows for the request. A row is a ``HomeRow``: a label, an
optional count, a link, and a tone (``"failed"``, ``"running"``, ``"ok"``, ``""``)::

    # plansync/admin.py — a "queue" panel on the home, in a few lines
    from core import home

    home.register(home.Panel(
        key="plansync", section=home.QUEUES, title="Plan sync", permission="plansync.view_planlink",
        rows=lambda request: [home.HomeRow("Failed", count=..., url=..., tone="failed")],
    ))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

MY_WORK, JOBS, QUEUES, AWAITING = "my_work", "jobs", "queues", "awaiting"
SECTIONS = [
    (MY_WORK, "My open activities"),
    (JOBS, "Jobs running or failed"),
    (QUEUES, "Sync queues"),
    (AWAITING, "Awaiting a person"),
]


@dataclass(frozen=True)
class HomeRow:
    label: str
    url: str = ""
    count: int | None = None
    tone: str = ""
    detail: str = ""


@dataclass(frozen=True)
class Panel:
    key: str
    section: str
    title: str
    permission: str | Callable[..., bool]  # a permission, or a test of the user
    rows: Callable[..., list[HomeRow]]
    empty: str = "Nothing here."
    more_url: Callable[..., str] | None = field(default=None)


_PANELS: dict[str, Panel] = {}


def register(panel: Panel) -> Panel:
    """Add (or replace, by key) a panel on the home."""
    if panel.section not in dict(SECTIONS):
        raise ValueError(f"unknown home section {panel.section!r}")
    _PANELS[panel.key] = panel
    return panel


def _allowed(panel: Panel, user) -> bool:
    return panel.permission(user) if callable(panel.permission) else user.has_perm(panel.permission)


def panels_for(request) -> list[dict]:
    """The sections of the home with the panels this user may see, rows computed."""
    sections = []
    for key, title in SECTIONS:
        panels = []
        for panel in _PANELS.values():
            if panel.section != key or not _allowed(panel, request.user):
                continue
            panels.append({"panel": panel, "rows": panel.rows(request), "more_url": panel.more_url(request) if panel.more_url else ""})
        if panels:
            sections.append({"key": key, "title": title, "panels": panels})
    return sections
