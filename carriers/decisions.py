"""What carriers leaves for a person, for the *Awaiting a person* inbox (``integrations.decisions``).

Two sources: open discrepancies (the carrier's view of a group differs from ours) and connections the
service stopped on until we act (action required, unable to connect) or never took (a request that gave up). Each row links to where it is
resolved, and says how many records it holds up: one for a value, the group's active employees for a
plan missing on one side or a connection that stopped (each query one statement, however many rows).
"""

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse

from core.jobs import ACTIVE
from hrsync.models import Employee
from integrations.decisions import Decision, DecisionSource

from .mapping import RETRYABLE_STATUSES
from .models import CarrierConnection, ConnectionAttempt, Discrepancy

DISCREPANCY_KIND = "Carrier discrepancy"
CONNECTION_KIND = "Carrier connection stopped"


def _active_employees(group_ref: str):
    count = (
        Employee.objects.filter(employer_group=OuterRef(group_ref), leave_date__isnull=True)
        .order_by()
        .values("employer_group")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(count, output_field=IntegerField()), Value(0))


def _open_discrepancies():
    return Discrepancy.objects.filter(status=Discrepancy.Status.OPEN)


def _what_differs(d: Discrepancy) -> str:
    where = f"{d.employer_group.name} at {d.carrier.name}"
    noun = "member" if d.field == "member" else "plan" if d.field == "plan" else ""
    if d.kind == Discrepancy.Kind.MISSING_AT_CARRIER:
        return f"{where}: {noun or d.field_label.lower()} missing at the carrier"
    if d.kind == Discrepancy.Kind.MISSING_HERE:
        return f"{where}: {noun or d.field_label.lower()} missing in AgencyDesk"
    return f"{where}: {d.field_label.lower()} differs"


def discrepancy_decisions(limit: int) -> list[Decision]:
    rows = (
        _open_discrepancies()
        .select_related("employer_group", "carrier")
        .annotate(group_size=_active_employees("employer_group"))
        .order_by("first_seen_at", "severity", "pk")[:limit]
    )
    return [
        Decision(
            kind=DISCREPANCY_KIND,
            title=f"{d.subject or d.subject_key}: {d.field_label}",
            blocks=_what_differs(d),
            opened_at=d.first_seen_at,
            url=reverse("admin:carriers_discrepancy_change", args=[d.pk]),
            # A plan missing on one side holds up the group's people on it (we can't say which: all its active ones).
            impact=max(1, d.group_size) if d.field == "plan" and d.kind != Discrepancy.Kind.MISMATCH else 1,
        )
        for d in rows
    ]


def _stopped_connections():
    """Stopped by the service until we act, or requested and never taken (its request attempt gave up)."""
    busy = ConnectionAttempt.objects.filter(connection=OuterRef("pk"), status__in=ACTIVE)
    return CarrierConnection.objects.filter(Q(status__in=RETRYABLE_STATUSES) | Q(connection_id="", status="") & ~Exists(busy))


def _held_up(c: CarrierConnection) -> str:
    if not c.connection_id:
        return f"{c.employer_group.name} is not connected with {c.carrier.name}: the request never reached the service; request it again"
    return f"{c.employer_group.name}'s data at {c.carrier.name} is not pulled nor compared until the connection is amended and retried" + (
        f" ({c.setup_message})" if c.setup_message else ""
    )


def connection_decisions(limit: int) -> list[Decision]:
    rows = (
        _stopped_connections()
        .select_related("employer_group", "carrier")
        .annotate(group_size=_active_employees("employer_group"))
        .order_by("status_since", "pk")[:limit]
    )
    return [
        Decision(
            kind=CONNECTION_KIND,
            title=f"{c.employer_group.name} at {c.carrier.name}: {c.status_display}",
            blocks=_held_up(c),
            opened_at=c.status_since,
            url=reverse("admin:carriers_carrierconnection_change", args=[c.pk]),
            impact=max(1, c.group_size),
        )
        for c in rows
    ]


SOURCES = [
    DecisionSource(
        key="carrier_discrepancies",
        kind=DISCREPANCY_KIND,
        permission="carriers.view_discrepancy",
        url="admin:carriers_discrepancy_changelist",
        count=lambda: _open_discrepancies().count(),
        rows=discrepancy_decisions,
    ),
    DecisionSource(
        key="carrier_connections",
        kind=CONNECTION_KIND,
        permission="carriers.view_carrierconnection",
        url="admin:carriers_carrierconnection_changelist",
        count=lambda: _stopped_connections().count(),
        rows=connection_decisions,
    ),
]
