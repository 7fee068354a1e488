"""Writes for employer groups, carriers and plans. Every write validates, audits and bumps versions."""

import copy
from collections.abc import Iterable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from accounts.models import AuditLog, User
from accounts.services import audit, record_delete
from core.audit import audit_each, field_changes, records_save_many
from integrations.ownership import owned_fields_check, owned_fields_checker

from ..models import Carrier, EmployerGroup, EmployerGroupAddress, EmployerGroupContact, Plan, PlanRate

# Apps that keep plans in step with another system (plansync) hear of a plan created or changed here,
# inside the transaction that wrote it (so they can record their intent with it): a plain registry, filled
# from their AppConfig.ready(); no signals (bulk writes skip them) and no import of theirs (they build on plans).
_plan_changed_hooks: list = []


def plan_changed_subscribe(hook) -> None:
    """Call ``hook(plan)`` after every plan created or changed by these services (in their transaction)."""
    if hook not in _plan_changed_hooks:
        _plan_changed_hooks.append(hook)


def _plan_changed(plan: Plan) -> None:
    for hook in _plan_changed_hooks:
        hook(plan)


CENT = Decimal("0.01")
TIERS = [t.value for t in PlanRate.Tier]
# Plan fields a caller may set; the rest (version, times, renewal link) belong to the services.
PLAN_FIELDS = [
    "group",
    "carrier",
    "line_of_coverage",
    "name",
    "plan_type",
    "policy_number",
    "effective_date",
    "renewal_date",
    "cancellation_date",
    "billing_type",
    "funding_type",
    "status",
    "benefit_summary",
    "rate_basis",
    "contribution_basis",
    "employer_contribution_employee",
    "employer_contribution_dependents",
    "waiting_period_days",
]
GROUP_FIELDS = [
    "name",
    "dba",
    "account_number",
    "account_type",
    "federal_ein",
    "sic_code",
    "office",
    "status",
    "employee_count",
    "renewal_month",
]


def _save_unique(instance) -> None:
    """Save; a unique row that won a race after ``full_clean`` becomes a field error, not a 500."""
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        raise ValidationError("This record clashes with one saved at the same moment; reload and try again.") from exc


# --- carriers ------------------------------------------------------------------------------------


def carrier_delete(*, actor: User | None, carrier: Carrier) -> None:
    """Delete a carrier no plan or policy uses; raises ``ApplicationError`` otherwise (deactivate it instead)."""
    record_delete(actor=actor, instance=carrier, instead="Deactivate it instead.")


# --- employer groups ----------------------------------------------------------------------------


def _replace_children(group: EmployerGroup, model, rows: list[dict], label: str, key: str) -> None:
    errors, objs = [], []
    for number, row in enumerate(rows, 1):
        obj = model(group=group, **row)
        try:
            obj.full_clean(exclude=["group"], validate_constraints=False)
        except ValidationError as exc:
            errors += [f"{label} {number}: {field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items()]
        objs.append(obj)
    if errors:
        raise ValidationError({key: errors})
    model.objects.filter(group=group).delete()
    model.objects.bulk_create(objs)


def _group_children(group, *, servicing_users, addresses, contacts) -> list[str]:
    changed = []
    if servicing_users is not None:
        group.servicing_users.set(servicing_users)
        changed.append("servicing_users")
    if addresses is not None:
        _replace_children(group, EmployerGroupAddress, addresses, "Address", "addresses")
        changed.append("addresses")
    if contacts is not None:
        if sum(1 for c in contacts if c.get("is_primary")) > 1:
            raise ValidationError({"contacts": "Only one contact can be the primary contact."})
        _replace_children(group, EmployerGroupContact, contacts, "Contact", "contacts")
        changed.append("contacts")
    return changed


@transaction.atomic
def employer_group_create(
    *,
    actor: User | None,
    servicing_users: Iterable[User] = (),
    addresses: list[dict] | None = None,
    contacts: list[dict] | None = None,
    **fields: Any,
) -> EmployerGroup:
    """Create an employer group with its servicing users, addresses and contacts.

    Raises ``ValidationError`` (field errors, e.g. a duplicate account number); nothing is written then.
    """
    group = EmployerGroup(**{k: v for k, v in fields.items() if k in GROUP_FIELDS})
    group.full_clean()
    _save_unique(group)
    _group_children(group, servicing_users=list(servicing_users), addresses=addresses, contacts=contacts)
    audit(actor=actor, action=AuditLog.Action.CREATE, obj=group)
    return group


def employer_group_prepare(*, contacts: list[dict] | None = None, **fields: Any) -> tuple[EmployerGroup, list[EmployerGroupContact]]:
    """An employer group and its contacts built and validated as ``employer_group_create`` does, not saved:
    for ``employer_groups_create_many``, which checks the account numbers. Raises ``ValidationError``."""
    group = EmployerGroup(**{k: v for k, v in fields.items() if k in GROUP_FIELDS})
    group.full_clean(validate_unique=False)
    rows = contacts or []
    if sum(1 for c in rows if c.get("is_primary")) > 1:
        raise ValidationError({"contacts": "Only one contact can be the primary contact."})
    errors, objs = [], []
    for number, row in enumerate(rows, 1):
        obj = EmployerGroupContact(**row)
        try:
            obj.full_clean(exclude=["group"], validate_constraints=False)
        except ValidationError as exc:
            errors += [f"Contact {number}: {field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items()]
        objs.append(obj)
    if errors:
        raise ValidationError({"contacts": errors})
    return group, objs


def employer_group_numbers_taken(account_numbers) -> set[str]:
    """Which of ``account_numbers`` a group holds already (one query)."""
    return set(EmployerGroup.objects.filter(account_number__in=list(account_numbers)).values_list("account_number", flat=True))


@transaction.atomic
def employer_groups_create_many(*, actor: User | None, groups: list[tuple[EmployerGroup, list[EmployerGroupContact]]]) -> list[EmployerGroup]:
    """Create many employer groups with their contacts (each from ``employer_group_prepare``), set-based:
    one INSERT per 1,000 rows and one audit row per group, as ``employer_group_create`` writes it.

    The caller has checked the account numbers (``employer_group_numbers_taken``, none twice): one taken
    meanwhile raises ``IntegrityError`` and the caller's transaction is rolled back.
    """
    created = EmployerGroup.objects.bulk_create([group for group, _ in groups], batch_size=1000)
    contacts = []
    for group, rows in groups:
        for contact in rows:
            contact.group = group
            contacts.append(contact)
    EmployerGroupContact.objects.bulk_create(contacts, batch_size=1000)
    audit_each(actor=actor, action=AuditLog.Action.CREATE, objs=created)
    return created


@transaction.atomic
def employer_groups_import_save(*, actor: User | None, created: list[EmployerGroup], updated: list[tuple[EmployerGroup, dict, list[str]]]) -> None:
    """One chunk of an employer-group import, set-based: ``created`` new groups, ``updated`` as (group, its
    columns before, the fields its row changed); inserted and updated together, each audited as
    ``record_save`` audits it. The caller has validated every group (``full_clean``) and matched them by
    account number. Raises ``ValidationError`` for a field the AMS owns; nothing is written then."""
    check = owned_fields_checker(EmployerGroup, [group.pk for group, _, _ in updated])
    for group, _, changed in updated:
        check(group, changed)
    columns = sorted({name for _, _, changed in updated for name in changed})
    records_save_many(actor=actor, model=EmployerGroup, created=created, updated=updated, columns=columns)


@transaction.atomic
def employer_group_update(
    *,
    actor: User | None,
    group: EmployerGroup,
    data: dict[str, Any],
    servicing_users: Iterable[User] | None = None,
    addresses: list[dict] | None = None,
    contacts: list[dict] | None = None,
) -> EmployerGroup:
    """Change an employer group; ``addresses`` / ``contacts`` given replace the group's whole set.

    Raises ``ValidationError`` with field errors; nothing is written then.
    """
    group = EmployerGroup.objects.select_for_update().get(pk=group.pk)  # compare with what is stored
    changed = [f for f in GROUP_FIELDS if f in data and getattr(group, f) != data[f]]
    owned_fields_check(instance=group, changed=changed)
    before = copy.copy(group)  # for the audit row's "field: old → new"
    for field in changed:
        setattr(group, field, data[field])
    group.full_clean()
    _save_unique(group)
    if servicing_users is not None:
        servicing_users = list(servicing_users)
        if {u.pk for u in servicing_users} == set(group.servicing_users.values_list("pk", flat=True)):
            servicing_users = None
    changed += _group_children(
        group,
        servicing_users=servicing_users,
        addresses=addresses,
        contacts=contacts,
    )
    audit(
        actor=actor,
        action=AuditLog.Action.UPDATE,
        obj=group,
        summary="Changed " + ", ".join(changed) if changed else "Saved without changes",
        data={"fields": changed, "changes": field_changes(before=before, after=group, changed=[f for f in changed if f in GROUP_FIELDS])},
    )
    return group


def employer_group_delete(*, actor: User | None, group: EmployerGroup) -> None:
    """Delete a group and its plans; raises ``ApplicationError`` while records elsewhere (employees) need it."""
    record_delete(actor=actor, instance=group, instead="Remove them first, or set the group inactive.")


# --- plans ----------------------------------------------------------------------------------------


def _rate_key(rate: dict) -> tuple:
    return (
        rate.get("tier") or "",
        rate.get("age_min"),
        rate.get("age_max"),
        Decimal(str(rate["monthly_rate"])).quantize(CENT) if rate.get("monthly_rate") not in (None, "") else None,
    )


def plan_rates_validate(plan: Plan, rates: list[dict]) -> list[PlanRate]:
    """Check ``rates`` for ``plan`` one by one and as a set (all four tiers, or non-overlapping age bands).

    Returns them as unsaved rows; raises ``ValidationError({"rates": [...]})`` otherwise.
    """
    errors, objs = [], []
    for number, rate in enumerate(rates, 1):
        obj = PlanRate(
            plan=plan, tier=rate.get("tier") or "", age_min=rate.get("age_min"), age_max=rate.get("age_max"), monthly_rate=rate.get("monthly_rate")
        )
        try:
            obj.full_clean(exclude=["plan"], validate_constraints=False)
        except ValidationError as exc:
            label = obj.band_label if obj.tier or obj.age_min is not None else "no tier"
            errors += [f"Rate {number} ({label}): {' '.join(m)}" for m in exc.message_dict.values()]
        objs.append(obj)
    if plan.rate_basis == Plan.RateBasis.TIERED:
        tiers = [o.tier for o in objs]
        if any(o.age_min is not None or not o.tier for o in objs):
            errors.append("A tiered plan has tier rates only (no age bands).")
        if duplicates := sorted({t for t in tiers if t and tiers.count(t) > 1}):
            errors.append("Each tier once: " + ", ".join(PlanRate.Tier(t).label for t in duplicates) + " repeated.")
        if missing := [PlanRate.Tier(t).label for t in TIERS if t not in tiers]:
            errors.append("A tiered plan needs a rate for every tier; missing: " + ", ".join(missing) + ".")
    else:
        if not objs or any(o.tier for o in objs):
            errors.append("An age-banded plan needs age-band rates (and no tier rates).")
        bands = sorted((o.age_min, o.age_max if o.age_max is not None else 200) for o in objs if o.age_min is not None)
        for (_lo1, hi1), (lo2, _hi2) in zip(bands, bands[1:], strict=False):
            if lo2 <= hi1:
                errors.append(f"Age bands overlap at age {lo2}.")
    if errors:
        raise ValidationError({"rates": errors})
    return objs


def _write_rates(plan: Plan, rates: list[PlanRate]) -> None:
    PlanRate.objects.filter(plan=plan).delete()
    for rate in rates:
        rate.plan = plan
    PlanRate.objects.bulk_create(rates)


def _plan_rate_dicts(plan: Plan) -> list[dict]:
    return [{"tier": r.tier, "age_min": r.age_min, "age_max": r.age_max, "monthly_rate": r.monthly_rate} for r in plan.rates.all()]


@transaction.atomic
def plan_create(*, actor: User | None, rates: list[dict], renewed_from: Plan | None = None, **fields: Any) -> Plan:
    """Create a plan and its rates in one transaction.

    Raises ``ValidationError`` (renewal before effective, inactive carrier, negative or missing
    rates, a benefit that doesn't apply to the line); nothing is written then.
    """
    plan = Plan(**{k: v for k, v in fields.items() if k in PLAN_FIELDS}, renewed_from=renewed_from)
    errors = {}
    try:
        plan.full_clean()
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        rate_objs = plan_rates_validate(plan, rates)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    _save_unique(plan)
    _write_rates(plan, rate_objs)
    audit(
        actor=actor,
        action=AuditLog.Action.CREATE,
        obj=plan,
        summary=f"Renewal of plan {renewed_from.pk}" if renewed_from else "",
        data={"version": plan.version},
    )
    _plan_changed(plan)
    return plan


@transaction.atomic
def plan_update(*, actor: User | None, plan: Plan, data: dict[str, Any], rates: list[dict] | None = None) -> Plan:
    """Change a plan and (when given) replace its rates, all or nothing; bumps ``version`` when anything changed.

    Raises ``ValidationError`` with field errors; nothing is written then.
    """
    plan = Plan.objects.select_for_update().get(pk=plan.pk)  # serialise version bumps
    before = model_to_dict(plan, fields=PLAN_FIELDS)
    for field in PLAN_FIELDS:
        if field in data:
            setattr(plan, field, data[field])
    errors = {}
    try:
        plan.full_clean()
    except ValidationError as exc:
        errors.update(exc.message_dict)
    after = model_to_dict(plan, fields=PLAN_FIELDS)
    changed = [f for f in PLAN_FIELDS if before[f] != after[f]]
    rate_objs = None
    if rates is not None or "rate_basis" in changed:
        rates = rates if rates is not None else _plan_rate_dicts(plan)
        try:
            rate_objs = plan_rates_validate(plan, rates)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        else:
            if sorted(map(_rate_key, rates)) != sorted(map(_rate_key, _plan_rate_dicts(plan))):
                changed.append("rates")
    if errors:
        raise ValidationError(errors)
    if not changed:
        return plan
    plan.version += 1
    _save_unique(plan)
    if "rates" in changed:
        _write_rates(plan, rate_objs)
    audit(
        actor=actor,
        action=AuditLog.Action.UPDATE,
        obj=plan,
        summary="Changed " + ", ".join(changed),
        data={"fields": changed, "version": plan.version},
    )
    _plan_changed(plan)
    return plan


@transaction.atomic
def plans_import_save(*, actor: User | None, created: list[Plan], updated: list[Plan]) -> None:
    """``plan_create`` / ``plan_update`` for one chunk of an import, set-based. Each plan carries its rates
    (``_import_rates``, checked with ``plan_rates_validate``) and was validated (``full_clean``) and matched by
    the caller. New plans and their rates are inserted together; the changed ones are compared with their
    rows as stored (locked, in primary-key order), their version bumped, written together and their rates
    replaced where they changed; an unchanged plan is not written. Each plan written is audited and heard
    by the plan hooks, as one by one."""
    Plan.objects.bulk_create(created, batch_size=500)
    rates = [rate for plan in created for rate in plan_rates_validate(plan, plan._import_rates)]
    audit_each(actor=actor, action=AuditLog.Action.CREATE, objs=created, data=[{"version": plan.version} for plan in created])
    locked = {p.pk: p for p in Plan.objects.select_for_update().filter(pk__in=[p.pk for p in updated]).order_by("pk")}
    stored_rates: dict[int, list[dict]] = {}
    for rate in PlanRate.objects.filter(plan__in=list(locked)).order_by():
        stored_rates.setdefault(rate.plan_id, []).append(
            {"tier": rate.tier, "age_min": rate.age_min, "age_max": rate.age_max, "monthly_rate": rate.monthly_rate}
        )
    changed_plans, summaries, data, columns, new_rates = [], [], [], set(), []
    for plan in updated:
        before, after = model_to_dict(locked[plan.pk], fields=PLAN_FIELDS), model_to_dict(plan, fields=PLAN_FIELDS)
        changed = [f for f in PLAN_FIELDS if before[f] != after[f]]
        if sorted(map(_rate_key, plan._import_rates)) != sorted(map(_rate_key, stored_rates.get(plan.pk, []))):
            changed.append("rates")
            new_rates.append(plan)
        if not changed:
            continue
        plan.version = locked[plan.pk].version + 1
        changed_plans.append(plan)
        columns.update(f for f in changed if f != "rates")
        summaries.append("Changed " + ", ".join(changed))
        data.append({"fields": changed, "version": plan.version})
    if changed_plans:
        now = timezone.now()
        for plan in changed_plans:
            plan.modified_at = now
        Plan.objects.bulk_update(changed_plans, sorted({*columns, "version", "modified_at"}), batch_size=500)
    if new_rates:
        PlanRate.objects.filter(plan__in=new_rates).delete()
        rates += [rate for plan in new_rates for rate in plan_rates_validate(plan, plan._import_rates)]
    PlanRate.objects.bulk_create(rates, batch_size=1000)
    audit_each(actor=actor, action=AuditLog.Action.UPDATE, objs=changed_plans, summaries=summaries, data=data)
    for plan in [*created, *changed_plans]:
        _plan_changed(plan)


@transaction.atomic
def plan_renew(
    *,
    actor: User | None,
    plan: Plan,
    effective_date: date | None = None,
    rate_change_percent: Decimal | int = 0,
) -> Plan:
    """Copy ``plan`` into its next plan year, linked to it (``renewed_from``), rates adjusted by a percent.

    The new plan starts at the old renewal date (or ``effective_date``) and renews a year later;
    the predecessor's status becomes Renewed. Raises ``ValidationError`` when the plan was renewed
    already or the copy is invalid (e.g. the carrier is now inactive); nothing is written then.
    """
    plan = Plan.objects.select_for_update().select_related("carrier").get(pk=plan.pk)
    if Plan.objects.filter(renewed_from=plan).exists():
        raise ValidationError({"renewed_from": f"{plan} has been renewed already; renew its latest plan year."})
    start = effective_date or plan.renewal_date
    factor = 1 + Decimal(str(rate_change_percent)) / 100
    if factor < 0:
        raise ValidationError({"rate_change_percent": "Rates can't fall by more than 100%."})
    rates = [{**r, "monthly_rate": (r["monthly_rate"] * factor).quantize(CENT, ROUND_HALF_UP)} for r in _plan_rate_dicts(plan)]
    fields = model_to_dict(plan, fields=PLAN_FIELDS)
    fields.update(
        group=plan.group,
        carrier=plan.carrier,
        effective_date=start,
        renewal_date=start + relativedelta(years=1),
        cancellation_date=None,
        status=Plan.Status.PENDING if start > timezone.localdate() else Plan.Status.ACTIVE,
    )
    renewal = plan_create(actor=actor, rates=rates, renewed_from=plan, **fields)
    if plan.status in (Plan.Status.ACTIVE, Plan.Status.PENDING):
        plan_update(actor=actor, plan=plan, data={"status": Plan.Status.RENEWED})
    return renewal
