"""Resolving discrepancies: take the carrier's value (through hrsync/plans services), keep ours, acknowledge."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet, TextChoices
from django.utils import timezone

from accounts.models import AuditLog, User
from accounts.services import audit
from core.errors import ApplicationError
from hrsync.models import BenefitsLevel
from hrsync.services import employee_update
from integrations.clients.noyo import noyo_client
from integrations.http import IntegrationError
from plans.services import plan_update

from ..mapping import EMPLOYEE_FIELDS, PLAN_FIELDS
from ..models import Discrepancy

Status = Discrepancy.Status
UNRESOLVED = [Status.OPEN, Status.KEPT_OURS, Status.ACKNOWLEDGED]


class Resolution(TextChoices):
    TAKE_CARRIER = "take_carrier", "Take the carrier's value"
    KEEP_OURS = "keep_ours", "Keep ours (flag for the carrier)"
    ACKNOWLEDGE = "acknowledge", "Acknowledge"


def _carrier_value(discrepancy: Discrepancy, field: str):
    value = discrepancy.carrier_value
    if field == "benefits_level":
        level = BenefitsLevel.objects.filter(name=value).first() if value else None
        if value and level is None:
            raise ApplicationError(f"No benefits level is called “{value}”: create it first, or keep ours.")
        return level
    if field in ("hire_date", "leave_date", "date_of_birth", "effective_date", "cancellation_date"):
        return date.fromisoformat(value) if value else None
    return value


def _take_carrier(actor: User | None, discrepancy: Discrepancy) -> None:
    if discrepancy.kind != Discrepancy.Kind.MISMATCH:
        raise ApplicationError(
            "A member or plan missing on one side can't be copied over: add or end it where it belongs, then pull again — or acknowledge it."
        )
    if discrepancy.field in EMPLOYEE_FIELDS and discrepancy.employee_id:
        if actor is not None and not actor.has_perm("hrsync.change_employee"):
            raise ApplicationError("Taking the carrier's value changes the employee: that needs Edit on Benefits Sync.")
        field = EMPLOYEE_FIELDS[discrepancy.field]
        employee_update(actor=actor, employee=discrepancy.employee, data={field: _carrier_value(discrepancy, field)})
    elif discrepancy.field in PLAN_FIELDS and discrepancy.plan_id:
        if actor is not None and not actor.has_perm("plans.change_plan"):
            raise ApplicationError("Taking the carrier's value changes the plan: that needs Edit on Employer Groups & Plans.")
        field = PLAN_FIELDS[discrepancy.field]
        plan_update(actor=actor, plan=discrepancy.plan, data={field: _carrier_value(discrepancy, field)})
    else:
        raise ApplicationError(f"AgencyDesk has no field to take the carrier's {discrepancy.field_label.lower()} into.")


def _check_open(discrepancy: Discrepancy, resolution: str) -> None:
    if discrepancy.status not in UNRESOLVED or (discrepancy.status == Status.ACKNOWLEDGED and resolution == Resolution.ACKNOWLEDGE):
        raise ApplicationError(f"This discrepancy is already {discrepancy.get_status_display().lower()}.")


def discrepancy_resolve(*, actor: User | None, discrepancy: Discrepancy, resolution: str) -> Discrepancy:
    """Resolve one discrepancy (call it outside a transaction). Raises ``ApplicationError`` (or
    ``ValidationError``); nothing is written then.

    *Take the carrier's value* writes it through hrsync's / plans' services (so the benefits sync
    follows); *keep ours* flags it for the carrier; *acknowledge* also acknowledges it on the service
    when the service reported it -- that call first, outside any transaction (acknowledging twice is
    harmless there), then ours in one short transaction.
    """
    if resolution not in Resolution.values:
        raise ValidationError({"resolution": f"Choose one of {', '.join(Resolution.values)}."})
    noyo_status = None
    if resolution == Resolution.ACKNOWLEDGE:
        current = Discrepancy.objects.get(pk=discrepancy.pk)
        _check_open(current, resolution)
        if current.noyo_discrepancy_id:
            try:
                answer = noyo_client().discrepancy_ack(current.noyo_discrepancy_id)
            except IntegrationError as exc:
                raise ApplicationError(f"The service did not take the acknowledgement: {exc.message}") from exc
            noyo_status = str(answer.get("status") or current.noyo_status)
    return _resolve(actor=actor, pk=discrepancy.pk, resolution=resolution, noyo_status=noyo_status)


@transaction.atomic
def _resolve(*, actor: User | None, pk: int, resolution: str, noyo_status: str | None) -> Discrepancy:
    discrepancy = Discrepancy.objects.select_for_update(of=("self",)).select_related("employee", "plan").get(pk=pk)
    _check_open(discrepancy, resolution)
    if resolution == Resolution.TAKE_CARRIER:
        _take_carrier(actor, discrepancy)
        discrepancy.status = Status.TOOK_CARRIER
    elif resolution == Resolution.KEEP_OURS:
        discrepancy.status = Status.KEPT_OURS
    else:
        if noyo_status is not None:
            discrepancy.noyo_status = noyo_status
        discrepancy.status = Status.ACKNOWLEDGED
    discrepancy.resolved_by, discrepancy.resolved_at = (actor if actor and actor.pk else None), timezone.now()
    discrepancy.save(update_fields=["status", "noyo_status", "resolved_by", "resolved_at"])
    audit(
        actor=actor,
        action=AuditLog.Action.UPDATE,
        obj=discrepancy,
        summary=f"{Resolution(resolution).label}: {discrepancy.field_label} (carrier {discrepancy.carrier_value or '—'}, "
        f"ours {discrepancy.our_value or '—'})",
    )
    return discrepancy


def discrepancies_resolve(*, actor: User | None, discrepancies: QuerySet, resolution: str) -> dict:
    """Resolve many, each on its own (one refusal never undoes the others). Returns counts and the refusals by id."""
    if resolution not in Resolution.values:
        raise ValidationError({"resolution": f"Choose one of {', '.join(Resolution.values)}."})
    resolved, errors = 0, {}
    for pk in list(discrepancies.order_by("severity", "pk").values_list("pk", flat=True)):
        discrepancy = Discrepancy(pk=pk)
        try:
            discrepancy_resolve(actor=actor, discrepancy=discrepancy, resolution=resolution)
            resolved += 1
        except ApplicationError as exc:
            errors[discrepancy.pk] = exc.message
        except ValidationError as exc:
            errors[discrepancy.pk] = "; ".join(exc.messages)
    return {"resolved": resolved, "refused": len(errors), "errors": errors}
