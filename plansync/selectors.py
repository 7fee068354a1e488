"""Reads of the benefits-admin link, through the FilterSets the API and admin share."""

from django.db.models import QuerySet
from django.urls import reverse

from integrations.decisions import Decision

from .filters import AccountFilterSet, ConflictFilterSet, LinkFilterSet, RunFilterSet
from .mapping import FIELD_LABELS
from .models import AccountLink, BenefitsAdminAccount, PlanChoice, PlanSyncConflict, PlanSyncRun, RemotePlan


def account_list(*, filters: dict | None = None) -> QuerySet[BenefitsAdminAccount]:
    return AccountFilterSet(filters or {}, BenefitsAdminAccount.objects.all()).qs


def link_list(*, filters: dict | None = None) -> QuerySet[AccountLink]:
    qs = AccountLink.objects.select_related("group").prefetch_related("choices")
    return LinkFilterSet(filters or {}, qs).qs


def run_list(*, filters: dict | None = None) -> QuerySet[PlanSyncRun]:
    qs = PlanSyncRun.objects.select_related("link__group").prefetch_related("items")
    return RunFilterSet(filters or {}, qs).qs


def conflict_list(*, filters: dict | None = None) -> QuerySet[PlanSyncConflict]:
    qs = PlanSyncConflict.objects.select_related("choice__plan", "choice__link__group")
    return ConflictFilterSet(filters or {}, qs).qs


def plans_side_by_side(link: AccountLink) -> dict:
    """Both systems' plans of a linked group, each with its choice (if any), for the choose-plans page."""
    choices = {c.plan_id: c for c in PlanChoice.objects.filter(link=link, plan__isnull=False)}
    by_product = {c.product_id: c for c in PlanChoice.objects.filter(link=link, product_id__isnull=False).select_related("plan")}
    local = [(plan, choices.get(plan.pk)) for plan in link.group.plans.select_related("carrier").order_by("effective_date", "name")]
    remote = [(rp, by_product.get(rp.product_id)) for rp in RemotePlan.objects.filter(account_id=link.account_id).order_by("product_id")]
    return {"local": local, "remote": remote}


def open_conflict_count() -> int:
    return PlanSyncConflict.objects.filter(status=PlanSyncConflict.Status.OPEN).count()


def conflict_decisions(limit: int) -> list[Decision]:
    """Open conflicts, oldest first, as decisions for *Awaiting a person* (each opens its admin page)."""
    rows = (
        PlanSyncConflict.objects.filter(status=PlanSyncConflict.Status.OPEN)
        .select_related("choice__plan", "choice__link__group")
        .order_by("created_at", "pk")[:limit]
    )
    decisions = []
    for conflict in rows:
        plan = str(conflict.choice)
        group = conflict.choice.link.group.name
        if conflict.kind == PlanSyncConflict.Kind.FIELD:
            label = FIELD_LABELS.get(conflict.field, conflict.field).lower()
            title, blocks = f"{plan} ({group}): {label} changed on both sides", f"Plan {plan} does not sync its {label}"
        else:
            title, blocks = f"{plan} ({group}): removed in the benefits-admin system", f"Plan {plan} does not sync"
        decisions.append(
            Decision(
                kind="Plan-sync conflict",
                title=title,
                blocks=blocks,
                opened_at=conflict.created_at,
                url=reverse("admin:plansync_plansyncconflict_change", args=[conflict.pk]),
            )
        )
    return decisions
