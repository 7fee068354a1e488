"""Reads for employer groups, carriers and plans."""

from django.db.models import Count, Prefetch, QuerySet

from .filters import CarrierFilterSet, EmployerGroupFilterSet, PlanFilterSet
from .models import Carrier, EmployerGroup, Plan, PlanRate


def carrier_list(*, filters: dict | None = None) -> QuerySet[Carrier]:
    return CarrierFilterSet(filters or {}, Carrier.objects.all()).qs


def employer_group_list(*, filters: dict | None = None) -> QuerySet[EmployerGroup]:
    """Groups matching ``filters`` (EmployerGroupFilterSet criteria) with their children prefetched."""
    queryset = (
        EmployerGroup.objects.annotate(plan_count=Count("plans"))
        .prefetch_related("servicing_users", "addresses", "contacts", "external_ids")
        .order_by("name", "id")
    )  # Meta.ordering does not apply to an aggregated query
    return EmployerGroupFilterSet(filters or {}, queryset).qs


def plan_list(*, filters: dict | None = None) -> QuerySet[Plan]:
    """Plans matching ``filters`` (PlanFilterSet criteria) with group, carrier, rates and renewal links."""
    queryset = Plan.objects.select_related("group", "carrier", "renewed_to").prefetch_related(
        Prefetch("rates", queryset=PlanRate.objects.order_by("age_min", "id"))
    )
    return PlanFilterSet(filters or {}, queryset).qs


def plan_renewal_chain(*, plan: Plan) -> list[Plan]:
    """Every plan year of ``plan``'s chain, oldest first (walks both directions)."""
    chain, seen, current = [], set(), plan
    while current.renewed_from_id and current.renewed_from_id not in seen:
        seen.add(current.pk)
        current = Plan.objects.select_related("carrier").get(pk=current.renewed_from_id)
    while current is not None and current.pk not in {p.pk for p in chain}:
        chain.append(current)
        current = Plan.objects.select_related("carrier").filter(renewed_from=current).first()
    return chain


def plan_rates_sorted(plan: Plan) -> list[PlanRate]:
    """The plan's rates in the order people read them: the four tiers in order, or by age."""
    order = {tier: i for i, tier in enumerate(PlanRate.Tier.values)}
    return sorted(plan.rates.all(), key=lambda r: (order.get(r.tier, 99), r.age_min or 0))
