"""*Awaiting a person*: one list of everything a sync can't decide alone.

Each app that leaves decisions for people (plan-sync conflicts, identity conflicts, carrier
discrepancies, syncs that need data fixed) registers one ``DecisionSource`` from its
``AppConfig.ready()``; the inbox (``/admin/awaiting/``, ``GET /api/awaiting/``) and the home's one
*Awaiting a person* panel list them all together, oldest first, each with what it blocks and a link
to where it is resolved -- with the app's own actions::

    # carriers/apps.py
    decisions.register(decisions.DecisionSource(
        key="discrepancies", kind="Carrier discrepancy", permission="carriers.view_discrepancy",
        url="admin:carriers_discrepancy_changelist", count=open_discrepancy_count, rows=discrepancy_decisions,
    ))

``rows(limit)`` returns the open ones as ``Decision`` (oldest first), ``count()`` how many are open.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.timesince import timesince


@dataclass(frozen=True)
class Decision:
    kind: str  # what sort of decision ("Plan-sync conflict")
    title: str  # what it is about, in a line
    blocks: str  # what waits on it ("Plan Dental PPO does not sync")
    opened_at: datetime
    url: str  # where a person decides
    impact: int = 1  # how many records it holds up

    @property
    def age(self) -> str:
        return timesince(self.opened_at, timezone.now(), depth=1)


@dataclass(frozen=True)
class DecisionSource:
    key: str
    kind: str
    permission: str
    url: str  # a URL name: the app's own list of these, where they are resolved
    count: Callable[[], int]
    rows: Callable[[int], list[Decision]]


_SOURCES: dict[str, DecisionSource] = {}


def register(source: DecisionSource) -> DecisionSource:
    """Add (or replace, by key) a source of decisions."""
    _SOURCES[source.key] = source
    return source


def sources_for(user, *, key: str = "") -> list[DecisionSource]:
    """The sources ``user`` may see (only ``key``'s when given), in the order they were registered."""
    return [source for source in _SOURCES.values() if user.has_perm(source.permission) and key in ("", source.key)]


def decisions_for(user, *, key: str = "", limit: int = 200) -> list[Decision]:
    """Every open decision ``user`` may see, oldest first (then the one that holds up most)."""
    rows = [row for source in sources_for(user, key=key) for row in source.rows(limit)]
    return sorted(rows, key=lambda row: (row.opened_at, -row.impact))[:limit]
