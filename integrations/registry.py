"""The external-id registry: map (system, object type, external id) to one local record.

Services of any app call these to link a local record to an outside system's copy, and to find
the local record an outside id names, so a record seen from a second system links instead of
being created again.
"""
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from .models import ExternalId

System = ExternalId.System


@transaction.atomic
def external_id_link(*, obj: models.Model, system: str, object_type: str, external_id: str) -> ExternalId:
    """Record that ``obj`` is ``system``'s (``object_type``, ``external_id``).

    Idempotent: linking the same pair again returns the existing row. Raises ``ValidationError``
    when the external id already names another local record, or ``obj`` already has a different
    id in ``system``; nothing is written then.
    """
    if obj.pk is None:
        raise ValidationError("Save the record before linking it to an outside system.")
    external_id = str(external_id).strip()
    if not external_id:
        raise ValidationError({"external_id": "An external id is required."})
    content_type = ContentType.objects.get_for_model(obj)
    existing = ExternalId.objects.filter(system=system, object_type=object_type, external_id=external_id).first()
    if existing is not None:
        if existing.content_type_id == content_type.pk and existing.object_id == obj.pk:
            return existing
        raise ValidationError(
            {"external_id": f"{System(system).label} {object_type} {external_id} is already linked to another record."}
        )
    if ExternalId.objects.filter(system=system, content_type=content_type, object_id=obj.pk).exists():
        raise ValidationError(
            {"system": f"This record is already linked to a different {System(system).label} id."}
        )
    row = ExternalId(
        system=system, object_type=object_type, external_id=external_id,
        content_type=content_type, object_id=obj.pk,
    )
    row.full_clean(validate_unique=False, validate_constraints=False)
    try:
        # A savepoint so a concurrent link that won the race surfaces as a field error.
        with transaction.atomic():
            row.save()
    except IntegrityError as exc:
        raise ValidationError({"external_id": "This external id was linked concurrently; try again."}) from exc
    return row


def external_id_lookup(*, system: str, object_type: str, external_id: str) -> models.Model | None:
    """The local record ``system``'s (``object_type``, ``external_id``) names, or ``None``."""
    row = (
        ExternalId.objects.select_related("content_type")
        .filter(system=system, object_type=object_type, external_id=str(external_id).strip())
        .first()
    )
    if row is None:
        return None
    return row.content_type.model_class()._default_manager.filter(pk=row.object_id).first()


def external_ids_for(obj: models.Model) -> dict[str, ExternalId]:
    """Every outside system's id for ``obj``, keyed by system."""
    content_type = ContentType.objects.get_for_model(obj)
    return {
        row.system: row
        for row in ExternalId.objects.filter(content_type=content_type, object_id=obj.pk)
    }
