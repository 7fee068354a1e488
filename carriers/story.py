"""What carrier connections tell on an employer group's page: its connections and open discrepancies
(``core.related`` panels) and the connections' history on its timeline (``core.timeline``).

Registered from ``CarriersConfig.ready()`` (plans never imports carriers).
"""

from django.urls import reverse

from core import display, related, timeline
from integrations.clients.noyo import status_label

from .mapping import CONNECTION_STATUS_LABELS
from .models import ConnectionEvent, Discrepancy
from .selectors import connection_list, discrepancy_list

MODEL = "plans.employergroup"
EMPTY = display.EMPTY


def _event_entry(e: ConnectionEvent) -> timeline.Entry:
    carrier = e.connection.carrier.name
    moved = f"{status_label(e.previous_status, CONNECTION_STATUS_LABELS)} → {e.status_display}" if e.previous_status else e.status_display
    return timeline.Entry(
        at=e.created_at,
        kind="sync",
        title=f"{carrier} connection · {e.get_source_display()}: {moved}",
        by=timeline.person_name(e.actor) if e.actor_id else "Carrier connection service",
        source="person" if e.actor_id else "sync",
        detail=e.message,
    )


def _events(group):
    return ConnectionEvent.objects.filter(connection__employer_group_id=group.pk).select_related("connection__carrier", "actor")


def register() -> None:
    timeline.register(
        timeline.rows_source(
            key="carrier_connections",
            model=MODEL,
            kind="sync",
            permission="carriers.view_carrierconnection",
            rows=_events,
            entry=_event_entry,
        )
    )
    related.register(
        related.RelatedPanel(
            key="carrier-connections",
            model=MODEL,
            title="Carrier connections",
            permission="carriers.view_carrierconnection",
            columns=["Carrier", "Carrier group id", "Status", "Since"],
            empty="No carrier connections.",
            rows=lambda request, group: connection_list().filter(employer_group=group).order_by("carrier__name", "-created_at"),
            cells=lambda c: [c.carrier.name, c.carrier_group_id, c.status_display, display.text(c.status_since)],
            more_url=lambda group: reverse("admin:carriers_carrierconnection_changelist") + f"?employer_group__id__exact={group.pk}",
        )
    )
    related.register(
        related.RelatedPanel(
            key="discrepancies",
            model=MODEL,
            title="Open discrepancies",
            permission="carriers.view_discrepancy",
            columns=["Carrier", "Who or what", "Field", "Carrier's value", "Ours"],
            empty="No open discrepancies.",
            rows=lambda request, group: discrepancy_list().filter(employer_group=group, status=Discrepancy.Status.OPEN),
            cells=lambda d: [
                d.carrier.name,
                d.subject or display.EMPTY,
                d.field_label,
                d.carrier_value or display.EMPTY,
                d.our_value or display.EMPTY,
            ],
            more_url=lambda group: reverse("admin:carriers_discrepancy_changelist") + f"?employer_group__id__exact={group.pk}&status__exact=open",
        )
    )
