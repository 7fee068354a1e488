"""Writes for individuals and policies; every one validated and audited (personal data encrypted on save)."""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from accounts.models import AuditLog, User
from accounts.services import audit, record_delete, record_save
from core.audit import audit_each
from integrations.ownership import owned_fields_check

from .. import personal_data
from ..custom_field_values import clean_values
from ..models import Individual, Policy

PERSONAL_FIELDS = personal_data.KINDS


def _apply(instance: Individual, data: dict[str, Any]) -> list[str]:
    """Set plain fields, personal data and custom fields from ``data``; returns the changed names.

    Collects every error (field, personal data, custom fields) into one ``ValidationError``.
    """
    errors: dict[str, list] = {}
    changed = []
    for name, value in data.items():
        if name in PERSONAL_FIELDS:
            current = instance.pk and getattr(instance, f"{name}_hash")
            try:
                if value in (None, ""):
                    if current:
                        personal_data.assign(instance, name, None)
                        changed.append(name)
                elif not current or personal_data.hash_value(name, value) != current:
                    personal_data.assign(instance, name, value)
                    changed.append(name)
            except ValidationError as exc:
                errors.update(exc.message_dict)
        elif name == "custom_fields":
            try:
                merged = clean_values(value, existing=instance.custom_fields)
            except ValidationError as exc:
                errors.update(exc.message_dict)
            else:
                if merged != instance.custom_fields:
                    instance.custom_fields = merged
                    changed.append(name)
        else:
            field = Individual._meta.get_field(name)  # FieldDoesNotExist for anything else
            attname = field.attname if field.is_relation and not hasattr(value, "_meta") else field.name
            if getattr(instance, attname) != value:
                setattr(instance, attname, value)
                changed.append(name)
    if errors:
        # Also report model-field errors in the same response.
        try:
            instance.full_clean(exclude=list(errors))
        except ValidationError as exc:
            errors.update(exc.message_dict)
        raise ValidationError(errors)
    return changed


@transaction.atomic
def individual_create(*, actor: User | None, data: dict[str, Any]) -> Individual:
    """Create an individual from plain values (personal data in clear; it is encrypted here).

    Raises ``ValidationError`` with every field error; nothing is written then.
    """
    individual = Individual()
    _apply(individual, data)
    return record_save(actor=actor, instance=individual)


def individual_prepare(*, data: dict[str, Any]) -> Individual:
    """An individual built from plain values and validated as ``individual_create`` validates it, not saved:
    for ``individuals_create_many``. Raises ``ValidationError`` with every field error."""
    individual = Individual()
    _apply(individual, data)
    individual.full_clean(validate_constraints=False)
    return individual


@transaction.atomic
def individuals_create_many(*, actor: User | None, individuals: list[Individual], policies: list[Policy] = ()) -> list[Individual]:
    """Create many individuals (each from ``individual_prepare``) and their new ``policies`` (each validated
    with ``full_clean`` but for its individual and its carrier, a saved one; ``policy.individual`` set to one
    of ``individuals``), set-based:
    one INSERT per 1,000 rows, and one audit row per record as ``individual_create`` / ``policy_save`` write it.
    """
    Individual.objects.bulk_create(individuals, batch_size=1000)
    audit_each(actor=actor, action=AuditLog.Action.CREATE, objs=individuals, data=[{"fields": []}] * len(individuals))
    Policy.objects.bulk_create(policies, batch_size=1000)
    audit_each(actor=actor, action=AuditLog.Action.CREATE, objs=list(policies), data=[{"fields": []}] * len(policies))
    return individuals


@transaction.atomic
def individual_update(*, actor: User | None, individual: Individual, data: dict[str, Any]) -> Individual:
    """Change the given fields; personal data given in clear replaces the stored value, "" clears it.

    The audit row names the changed fields, never their personal-data values.
    """
    changed = _apply(individual, data)
    owned_fields_check(instance=individual, changed=changed)
    return record_save(actor=actor, instance=individual, changed=changed)


@transaction.atomic
def individual_save(
    *,
    actor: User | None,
    individual: Individual,
    changed: list[str] | None = None,
    personal: dict[str, str] | None = None,
    custom_fields: dict | None = None,
) -> Individual:
    """Save an individual whose plain fields are already set (admin form, import row).

    ``personal``: kind -> clear value ("" clears); ``custom_fields``: the full, already merged values
    (validated again here). Raises ``ValidationError``; nothing is written then.
    """
    changed = [c for c in (changed or []) if c not in PERSONAL_FIELDS and not c.startswith(("cf_", "clear_"))]
    owned_fields_check(instance=individual, changed=changed)
    data = dict(personal or {})
    if custom_fields is not None:
        stale = {k: None for k in individual.custom_fields if k not in custom_fields}
        data["custom_fields"] = {**stale, **custom_fields}
    extra = _apply(individual, data)
    return record_save(actor=actor, instance=individual, changed=None if individual._state.adding else [*changed, *extra])


@transaction.atomic
def individual_delete(*, actor: User | None, individual: Individual) -> None:
    """Delete an individual and its policies (audited)."""
    record_delete(actor=actor, instance=individual)


def individual_reveal(*, actor: User, individual: Individual, kind: str) -> str:
    """The full value of one personal-data field for a user with "view full personal data"; audited.

    Raises ``PermissionDenied`` without the right, ``ValidationError`` for an unknown kind.
    """
    if kind not in PERSONAL_FIELDS:
        raise ValidationError({"reveal": f"Choose one of {', '.join(PERSONAL_FIELDS)}."})
    if not actor.has_perm("accounts.view_full_personal_data") or not actor.has_perm("individuals.view_individual"):
        raise PermissionDenied
    value = personal_data.reveal(individual, kind)
    audit(
        actor=actor,
        action=AuditLog.Action.REVEAL,
        obj=individual,
        summary=f"Revealed the {personal_data.LABELS[kind]}",
        data={"field": kind, "masked": personal_data.masked(individual, kind)},
    )
    return personal_data.display(kind, value)


@transaction.atomic
def policy_save(*, actor: User | None, policy: Policy, changed: list[str] | None = None) -> Policy:
    """Validate and save a policy (create or update), audited."""
    owned_fields_check(instance=policy, changed=changed)
    return record_save(actor=actor, instance=policy, changed=changed)


@transaction.atomic
def policy_delete(*, actor: User | None, policy: Policy) -> None:
    record_delete(actor=actor, instance=policy)
