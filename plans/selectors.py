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


# --- the employer group's page (plans.admin.summary): what it shows above the timeline ---------------
def employer_group_summary(*, group: EmployerGroup) -> dict:
    """Plans (carrier joined, current first), addresses, contacts, servicing users, and the plan sync state from
    the external-id registry (the benefits-admin account link and which plans are linked, with each one's last
    sync). Five queries, whatever the number of plans."""
    from django.contrib.contenttypes.models import ContentType

    from integrations.models import ExternalId

    plans = list(group.plans.select_related("carrier").order_by("status", "line_of_coverage", "-effective_date", "id"))
    cts = ContentType.objects.get_for_models(EmployerGroup, Plan)
    links = list(
        ExternalId.objects.filter(system=ExternalId.System.BENEFITS_ADMIN, status=ExternalId.Status.ACTIVE).filter(
            models_q(cts[EmployerGroup].pk, [group.pk]) | models_q(cts[Plan].pk, [p.pk for p in plans])
        )
    )
    account = next((r for r in links if r.content_type_id == cts[EmployerGroup].pk), None)
    by_plan = {r.object_id: r for r in links if r.content_type_id == cts[Plan].pk}
    for plan in plans:
        plan.benefits_admin_link = by_plan.get(plan.pk)
    synced = [r for r in by_plan.values() if r.last_synced_at]
    return {
        "plans": plans,
        "addresses": list(group.addresses.all()),
        "contacts": list(group.contacts.order_by("-is_primary", "name")),
        "servicing_users": list(group.servicing_users.all()),
        "plan_sync": {
            "account": account,
            "plans_linked": len(by_plan),
            "plans_failed": sum(1 for r in by_plan.values() if r.last_sync_outcome == ExternalId.Outcome.FAILED),
            "last_synced_at": max((r.last_synced_at for r in synced), default=account.last_synced_at if account else None),
        },
    }


def models_q(content_type_id: int, ids: list[int]):
    from django.db.models import Q

    return Q(content_type_id=content_type_id, object_id__in=ids)


def employer_group_provenance(*, group: EmployerGroup) -> dict[str, dict]:
    """Where each of the group's values came from (``core.timeline.value_origins``) and which outside system
    owns it now (``integrations.ownership``). Two queries."""
    from core.timeline import value_origins
    from integrations.ownership import owned_fields

    return value_origins(group, owners=owned_fields(group))
