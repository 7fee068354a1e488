"""Reads for carriers: connections with their last amendment, discrepancies coverage-first."""

from django.contrib.contenttypes.models import ContentType
from django.db.models import OuterRef, QuerySet, Subquery

from integrations.models import ExternalId
from plans.models import Carrier

from .filters import CarrierConnectionFilterSet, DiscrepancyFilterSet
from .models import CarrierConnection, ConnectionAmendment, Discrepancy


def connection_list(*, filters: dict | None = None) -> QuerySet:
    last = ConnectionAmendment.objects.filter(connection=OuterRef("pk")).order_by("-created_at", "-id")
    base = CarrierConnection.objects.select_related("employer_group", "carrier").annotate(
        last_amended_at=Subquery(last.values("created_at")[:1]), last_amendment=Subquery(last.values("changes")[:1])
    )
    return CarrierConnectionFilterSet(filters or {}, queryset=base).qs


def discrepancy_list(*, filters: dict | None = None) -> QuerySet:
    base = Discrepancy.objects.select_related("employer_group", "carrier", "resolved_by").order_by("severity", "field", "id")
    return DiscrepancyFilterSet(filters or {}, queryset=base).qs


def connection_history(*, connection: CarrierConnection) -> QuerySet:
    return connection.events.select_related("actor").order_by("-created_at", "-id")


def carriers_at_service() -> QuerySet:
    """Active carriers the carrier-connection service knows (their id there is in the external-id registry), by name."""
    known = ExternalId.objects.filter(
        system=ExternalId.System.CARRIER_EXCHANGE,
        object_type="carrier",
        status=ExternalId.Status.ACTIVE,
        content_type=ContentType.objects.get_for_model(Carrier),
    )
    return Carrier.objects.filter(active=True, pk__in=known.values("object_id")).order_by("name")
