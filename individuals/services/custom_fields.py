"""Custom field definitions: create, change (type changes checked against stored values), delete; audited."""

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User
from accounts.services import record_delete, record_save

from ..models import CustomField, Individual


@transaction.atomic
def custom_field_save(*, actor: User | None, field: CustomField, changed: list[str] | None = None) -> CustomField:
    """Create or change a custom field definition.

    Its type cannot change once individuals hold values for it (they were validated for the old type).
    """
    custom_field_check_change(field=field, changed=changed)
    return record_save(actor=actor, instance=field, changed=changed)


def custom_field_check_change(*, field: CustomField, changed: list[str] | None) -> None:
    """Refuse changing the key, the type or removing options that individuals' values depend on."""
    if not field.pk or not changed:
        return
    old = CustomField.objects.get(pk=field.pk)
    in_use = Individual.objects.filter(custom_fields__has_key=old.key).exists()
    if not in_use:
        return
    if "field_type" in changed and old.field_type != field.field_type:
        raise ValidationError({"field_type": "Individuals hold values for this field: its type cannot change."})
    if "key" in changed and old.key != field.key:
        raise ValidationError({"key": "Individuals hold values for this field: its key cannot change."})


@transaction.atomic
def custom_field_create(*, actor: User | None, **fields) -> CustomField:
    return custom_field_save(actor=actor, field=CustomField(**fields))


@transaction.atomic
def custom_field_delete(*, actor: User | None, field: CustomField) -> None:
    """Delete a definition that no individual uses; deactivate it otherwise (values are kept)."""
    if Individual.objects.filter(custom_fields__has_key=field.key).exists():
        raise ValidationError({"active": "Individuals hold values for this field: deactivate it instead."})
    record_delete(actor=actor, instance=field)
