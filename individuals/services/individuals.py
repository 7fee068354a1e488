"""Writes for individuals and policies; every one validated and audited (personal data encrypted on save)."""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from accounts.models import AuditLog, User
from accounts.services import audit, record_delete, record_save
from core.audit import records_save_many
from integrations.ownership import owned_fields_check, owned_fields_checker

from .. import personal_data
from ..custom_field_values import clean_values
from ..models import CustomField, Individual, Policy

PERSONAL_FIELDS = personal_data.KINDS


def _apply(instance: Individual, data: dict[str, Any], custom_field_defs: dict | None = None) -> list[str]:
    """Set plain fields, personal data and custom fields from ``data``; returns the changed names.
    ``custom_field_defs``: every custom field by key, when the caller has them (else looked up).

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
                merged = clean_values(value, fields=custom_field_defs, existing=instance.custom_fields)
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
    records_save_many(actor=actor, model=Individual, created=individuals, updated=[], columns=[])
    records_save_many(actor=actor, model=Policy, created=list(policies), updated=[], columns=[])
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


def _import_data(individual: Individual, personal: dict | None, custom_fields: dict | None) -> dict[str, Any]:
    data = dict(personal or {})
    if custom_fields is not None:
        stale = {k: None for k in individual.custom_fields if k not in custom_fields}
        data["custom_fields"] = {**stale, **custom_fields}
    return data


def _columns(name: str) -> list[str]:
    """The stored fields a changed name writes (a personal-data kind: its three columns)."""
    return [f"{name}_{part}" for part in ("encrypted", "hash", "last4")] if name in PERSONAL_FIELDS else [name]


@transaction.atomic
def individuals_import_save(*, actor: User | None, created: list[tuple], updated: list[tuple], custom_field_defs: dict | None = None) -> None:
    """``individual_save`` for one chunk of an import, set-based: ``created`` as (individual, personal,
    custom fields), ``updated`` as (individual, its columns before, the fields its row changed, personal,
    custom fields), each like ``individual_save``'s arguments. Personal data is encrypted and custom fields
    validated (``individuals_import_prepare``, which writes nothing: an import job runs it before the
    chunk's transaction); new individuals are then inserted together, changed ones updated together, each
    audited as ``individual_save`` audits it (``individuals_import_write``). The caller (the import's
    resource) has validated every individual's own fields. Raises ``ValidationError``; nothing is written then.
    """
    individuals_import_write(actor=actor, prepared=individuals_import_prepare(created=created, updated=updated, custom_field_defs=custom_field_defs))


def individuals_import_prepare(*, created: list[tuple], updated: list[tuple], custom_field_defs: dict | None = None) -> tuple:
    """The first half of ``individuals_import_save``: every individual readied (personal data encrypted,
    custom fields validated and merged, fields an outside system owns refused); reads only."""
    if custom_field_defs is None:
        custom_field_defs = {cf.key: cf for cf in CustomField.objects.all()}
    for individual, personal, custom_fields in created:
        _apply(individual, _import_data(individual, personal, custom_fields), custom_field_defs)
    check = owned_fields_checker(Individual, [row[0].pk for row in updated])
    rows, columns = [], set()
    for individual, before, changed, personal, custom_fields in updated:
        changed = [c for c in changed if c not in PERSONAL_FIELDS and not c.startswith(("cf_", "clear_"))]
        check(individual, changed)
        names = [*changed, *_apply(individual, _import_data(individual, personal, custom_fields), custom_field_defs)]
        rows.append((individual, before, names))
        columns.update(column for name in names for column in _columns(name))
    return [row[0] for row in created], rows, sorted(columns)


@transaction.atomic
def individuals_import_write(*, actor: User | None, prepared: tuple) -> None:
    """The second half of ``individuals_import_save``: what ``individuals_import_prepare`` readied, written and audited."""
    created, updated, columns = prepared
    records_save_many(actor=actor, model=Individual, created=created, updated=updated, columns=columns)


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
def policies_import_save(*, actor: User | None, created: list[Policy], updated: list[tuple[Policy, dict, list[str]]]) -> None:
    """``policy_save`` for one chunk of an import, set-based: ``created`` new policies, ``updated`` as (policy,
    its columns before, the fields its row changed); inserted and updated together, each audited as
    ``policy_save`` audits it. The caller has validated every policy (``full_clean``). Raises
    ``ValidationError`` for a field the AMS owns; nothing is written then."""
    check = owned_fields_checker(Policy, [policy.pk for policy, _, _ in updated])
    for policy, _, changed in updated:
        check(policy, changed)
    columns = sorted({name for _, _, changed in updated for name in changed})
    records_save_many(actor=actor, model=Policy, created=created, updated=updated, columns=columns)


@transaction.atomic
def policy_delete(*, actor: User | None, policy: Policy) -> None:
    record_delete(actor=actor, instance=policy)
