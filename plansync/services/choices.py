"""Per-plan choices of a linked group (don't sync / create it there / link with a chosen plan and a
source of truth per details, benefits and rates), and the field-by-field preview of the first sync."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import AuditLog, User
from accounts.services import audit
from plans.models import Plan

from ..mapping import CATEGORIES, PRODUCT_TYPE_TO_LINE, Unmappable, change_lines, comparable_local, comparable_remote
from ..models import AccountLink, PlanChoice, RemotePlan, Side

Choice, State = PlanChoice.Choice, PlanChoice.State
SIDE_LABELS = dict(Side.choices)


def plan_rates(plan: Plan) -> list[dict]:
    return [{"tier": r.tier, "age_min": r.age_min, "age_max": r.age_max, "monthly_rate": r.monthly_rate} for r in plan.rates.all()]


def first_sync_split(choice: PlanChoice, local: dict, remote: dict) -> tuple[dict, dict]:
    """(values to write there, values to write here) when a linked pair syncs the first time: per
    category, the source of truth's values overwrite the other side's where they differ."""
    push, pull = {}, {}
    truth = {"details": choice.truth_details, "benefits": choice.truth_benefits, "rates": choice.truth_rates}
    for category, fields in CATEGORIES.items():
        for field in fields:
            if local.get(field) == remote.get(field):
                continue
            if truth[category] == Side.AGENCYDESK:
                push[field] = local.get(field)
            else:
                pull[field] = remote.get(field)
    return push, pull


@dataclass
class Row:
    choice: str
    plan: Plan | None = None
    product_id: int | None = None
    truth_details: str = Side.BENEFITS_ADMIN
    truth_benefits: str = Side.BENEFITS_ADMIN
    truth_rates: str = Side.BENEFITS_ADMIN


def _validate(link: AccountLink, rows: list[Row]) -> dict[int, RemotePlan]:
    errors = []
    remote = {r.product_id: r for r in RemotePlan.objects.filter(account_id=link.account_id)}
    plans_seen, products_seen = set(), set()
    for n, row in enumerate(rows, 1):
        label = f"Row {n}"
        if row.choice not in Choice.values:
            errors.append(f"{label}: {row.choice!r} is not a choice.")
            continue
        if row.plan is not None and row.plan.group_id != link.group_id:
            errors.append(f"{label}: {row.plan} is not a plan of {link.group.name}.")
        if row.product_id is not None and row.product_id not in remote:
            errors.append(f"{label}: product {row.product_id} is not a plan of benefits-admin account {link.account_id}.")
        if row.choice == Choice.LINK and (row.plan is None or row.product_id is None):
            errors.append(f"{label}: linking needs a plan on each side; a person pairs them.")
        elif row.choice == Choice.LINK and row.product_id in remote:
            there = PRODUCT_TYPE_TO_LINE.get(remote[row.product_id].data.get("productTypeID"))
            if there != row.plan.line_of_coverage:
                kind = Plan.Line(there).label.lower() if there else "a product type with no AgencyDesk line"
                errors.append(
                    f"{label}: {row.plan} is a {row.plan.get_line_of_coverage_display().lower()} plan and product {row.product_id} is "
                    f"{kind}: link plans of the same line of coverage."
                )
        if row.choice == Choice.CREATE_THERE and (row.plan is None) == (row.product_id is None):
            errors.append(f"{label}: creating a plan on the other side starts from exactly one plan.")
        if row.plan is None and row.product_id is None:
            errors.append(f"{label}: no plan chosen.")
        for truth in (row.truth_details, row.truth_benefits, row.truth_rates):
            if truth not in Side.values:
                errors.append(f"{label}: {truth!r} is not a side.")
        if row.plan is not None:
            if row.plan.pk in plans_seen:
                errors.append(f"{label}: {row.plan} is chosen twice.")
            plans_seen.add(row.plan.pk)
        if row.product_id is not None:
            if row.product_id in products_seen:
                errors.append(f"{label}: product {row.product_id} is chosen twice.")
            products_seen.add(row.product_id)
    settled = PlanChoice.objects.filter(state__in=[State.SYNCED, State.REMOVED_THERE]).filter(models_q(plans_seen, products_seen))
    for existing in settled:
        row = next((r for r in rows if (r.plan and r.plan.pk == existing.plan_id) or (r.product_id and r.product_id == existing.product_id)), None)
        if row and row.choice != Choice.DONT_SYNC:
            errors.append(f'{existing} is synced already: choose "Don\'t sync" to stop, then choose again.')
    if errors:
        raise ValidationError({"choices": errors})
    return remote


def models_q(plan_ids, product_ids):
    from django.db.models import Q

    return Q(plan_id__in=plan_ids) | Q(product_id__in=product_ids)


@transaction.atomic
def plan_choices_save(*, actor: User | None, link: AccountLink, rows: list[Row]) -> list[PlanChoice]:
    """Record the person's choices; the next sync acts on them. Raises ``ValidationError``; nothing written then.

    A synced plan set to "Don't sync" stops syncing (state Not syncing); pending choices are replaced.
    """
    _validate(link, rows)
    saved = []
    for row in rows:
        existing = PlanChoice.objects.filter(models_q([row.plan.pk] if row.plan else [], [row.product_id] if row.product_id else []))
        if row.choice == Choice.DONT_SYNC and existing.filter(state__in=[State.SYNCED, State.REMOVED_THERE]).exists():
            existing.update(choice=Choice.DONT_SYNC, state=State.ENDED)
            saved += list(existing)
            continue
        existing.delete()
        choice = PlanChoice(
            link=link,
            plan=row.plan,
            product_id=row.product_id,
            choice=row.choice,
            truth_details=row.truth_details,
            truth_benefits=row.truth_benefits,
            truth_rates=row.truth_rates,
            state=State.ENDED if row.choice == Choice.DONT_SYNC else State.PENDING,
        )
        choice.full_clean()
        choice.save()
        saved.append(choice)
    audit(
        actor=actor,
        action=AuditLog.Action.UPDATE,
        obj=link,
        summary=f"Plan choices saved ({len(rows)})",
        data={"choices": [{"plan": r.plan.pk if r.plan else None, "product_id": r.product_id, "choice": r.choice} for r in rows]},
    )
    return saved


def _preview_changes(values: dict, before: dict, side: str) -> list[dict]:
    """Field by field (each benefit and rate tier its own line) what ``side`` gets written."""
    product_type = values.get("productTypeID") or before.get("productTypeID")
    return [
        {"field": label, "side": SIDE_LABELS[side], "old": old, "new": new}
        for f, v in values.items()
        for label, old, new in change_lines(f, before.get(f), v, product_type_id=product_type)
    ]


def plan_choices_preview(*, link: AccountLink, rows: list[Row]) -> list[dict]:
    """What each choice's first sync will create or overwrite, field by field; nothing is written."""
    remote = _validate(link, rows)
    out = []
    for row in rows:
        label = str(row.plan) if row.plan else remote[row.product_id].data.get("name", str(row.product_id))
        entry = {"plan": label, "choice": Choice(row.choice).label, "action": "", "changes": [], "problem": ""}
        try:
            local = comparable_local(row.plan, plan_rates(row.plan)) if row.plan else None
            there = comparable_remote(remote[row.product_id].data, remote[row.product_id].rate) if row.product_id else None
        except Unmappable as exc:
            entry["problem"] = f"This plan's sync will fail: {exc}."
            out.append(entry)
            continue
        if row.choice == Choice.DONT_SYNC:
            entry["action"] = "Nothing is written."
        elif row.choice == Choice.CREATE_THERE:
            source, side = (local, Side.BENEFITS_ADMIN) if local else (there, Side.AGENCYDESK)
            entry["action"] = f"Creates the plan in {SIDE_LABELS[side]}."
            entry["changes"] = _preview_changes(source, {}, side)
        else:
            choice = PlanChoice(truth_details=row.truth_details, truth_benefits=row.truth_benefits, truth_rates=row.truth_rates)
            push, pull = first_sync_split(choice, local, there)
            entry["action"] = (
                "Links the two plans; the source of truth overwrites the other side."
                if push or pull
                else "Links the two plans; they agree on every field."
            )
            entry["changes"] = _preview_changes(push, there, Side.BENEFITS_ADMIN) + _preview_changes(pull, local, Side.AGENCYDESK)
        out.append(entry)
    return out
