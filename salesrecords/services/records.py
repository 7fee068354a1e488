"""Writes for single sales records, types, workflows and activities; and Convert to Individual."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction

from accounts.models import AuditLog, User
from accounts.services import audit, record_delete, record_save
from individuals.models import CustomField, Individual
from individuals.services import individual_save

from ..models import CARRIED_FIELDS, MAX_RECORD_TYPES, PERSONAL_COLUMNS, SalesRecord, SalesRecordType, SalesWorkflow
from ..rights import type_allows
from ..workflows import applicable_workflows, validate_workflow, workflow_emails_enqueue, workflows_trigger


def _check(actor: User | None, record: SalesRecord, action: str) -> None:
    if actor is not None and not type_allows(actor, record.record_type_id, action):
        raise PermissionDenied


@transaction.atomic
def salesrecord_save(*, actor: User | None, record: SalesRecord, changed: list[str] | None = None) -> SalesRecord:
    """Create or change one sales record (type rights checked, validated, audited).

    A new record runs the sales workflows of its type (once); their emails go out after commit.
    """
    creating = record._state.adding
    _check(actor, record, "add" if creating else "change")
    if not creating and "record_type" in (changed or []):
        old_type = SalesRecord.objects.values_list("record_type_id", flat=True).get(pk=record.pk)
        _check(actor, SalesRecord(record_type_id=old_type), "change")
    record_save(actor=actor, instance=record, changed=changed)
    if creating:
        workflows = applicable_workflows(record.record_type_id)
        if workflows:
            records = SalesRecord.objects.filter(pk=record.pk)
            workflows_trigger(records=records, workflows=workflows)
            if any(w.send_email for w in workflows):
                workflow_emails_enqueue()
            record.refresh_from_db(fields=["stage"])
    return record


@transaction.atomic
def salesrecord_delete(*, actor: User | None, record: SalesRecord) -> None:
    _check(actor, record, "delete")
    record_delete(actor=actor, instance=record)


def _merged_custom_fields(record: SalesRecord, individual: Individual | None) -> dict:
    """The individual's values overlaid with the record's, for fields that are still defined and active."""
    active = set(CustomField.objects.filter(active=True).values_list("key", flat=True))
    values = dict(individual.custom_fields or {}) if individual is not None else {}
    values.update({k: v for k, v in (record.custom_fields or {}).items() if k in active})
    return values


@transaction.atomic
def salesrecord_convert(*, actor: User | None, record: SalesRecord) -> Individual:
    """Write the record's data back into its individual (or a new one), then delete the record. Irreversible.

    Personal data is copied as its stored columns (never decrypted). Needs edit on the record's
    type and Edit on Individuals; raises ``ValidationError`` (nothing written) when the data does
    not make a valid individual. Audited on both sides.
    """
    record = SalesRecord.objects.select_for_update().get(pk=record.pk)
    _check(actor, record, "change")
    individual = (Individual.objects.filter(pk=record.individual_id).first() if record.individual_id else None) or Individual()
    creating = individual._state.adding
    if actor is not None and not actor.has_perm("individuals.add_individual" if creating else "individuals.change_individual"):
        raise PermissionDenied
    changed = []
    for name in (*CARRIED_FIELDS, *PERSONAL_COLUMNS):
        value = getattr(record, name)
        if getattr(individual, name) != value:
            setattr(individual, name, value)
            changed.append(name)
    try:
        individual = individual_save(
            actor=actor,
            individual=individual,
            changed=None if creating else changed,
            custom_fields=_merged_custom_fields(record, None if creating else individual),
        )
    except ValidationError as exc:
        raise ValidationError(
            {"__all__": [f"{record} cannot become an individual: " + "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())]}
        ) from None
    audit(
        actor=actor,
        action=AuditLog.Action.DELETE,
        obj=record,
        summary=f"Converted to individual #{individual.pk} ({'created' if creating else 'updated'})",
        data={"individual": individual.pk, "created_individual": creating, "record_type": record.record_type_id},
    )
    record.delete()
    return individual


@transaction.atomic
def salesrecords_convert(*, actor: User | None, records) -> list[Individual]:
    """Convert a batch: all or nothing (one invalid record rolls the whole batch back)."""
    return [salesrecord_convert(actor=actor, record=r) for r in records]


@transaction.atomic
def activity_complete(*, actor: User | None, activity) -> object:
    """Mark an activity done (audited)."""
    activity.done = True
    return record_save(actor=actor, instance=activity, changed=["done"])


def salesrecordtype_limit_check() -> None:
    """``ValidationError`` when there are already ``MAX_RECORD_TYPES`` types (the admin form asks it first)."""
    if SalesRecordType.objects.count() >= MAX_RECORD_TYPES:
        raise ValidationError(f"There can be at most {MAX_RECORD_TYPES} sales record types.")


@transaction.atomic
def salesrecordtype_save(*, actor: User | None, record_type: SalesRecordType, changed: list[str] | None = None) -> SalesRecordType:
    """Create or change a sales record type (validated, audited); at most ``MAX_RECORD_TYPES``, whoever races.

    A new type is counted under a transaction-scoped lock (PostgreSQL advisory lock; SQLite's
    write transactions are serial already), so two concurrent adds cannot both take the tenth place.
    """
    if record_type._state.adding:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext('salesrecords.salesrecordtype.limit'))")
        salesrecordtype_limit_check()
    return record_save(actor=actor, instance=record_type, changed=changed)


@transaction.atomic
def salesworkflow_save(*, actor: User | None, workflow: SalesWorkflow, record_types=None, changed: list[str] | None = None) -> SalesWorkflow:
    """Create or change a sales workflow: validated by ``validate_workflow`` (criteria with personal data
    as keyed hashes, templates that compile, an action), audited; ``record_types`` (if given) set after.
    Raises ``ValidationError`` and writes nothing when invalid.
    """
    validate_workflow(workflow)
    record_save(actor=actor, instance=workflow, changed=changed)
    if record_types is not None:
        workflow.record_types.set(record_types)
    return workflow
