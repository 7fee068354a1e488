"""The external-id registry: map (system, object type, external id) to one local record.

Services of any app call these to link a local record to an outside system's copy, and to find
the local record an outside id names, so a record seen from a second system links instead of
being created again. The database enforces both rules (see ``ExternalId``); these functions turn a
broken rule into a field error instead of an ``IntegrityError``.
"""

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from .models import ExternalId

System = ExternalId.System


@transaction.atomic
def external_id_link(*, obj: models.Model, system: str, object_type: str, external_id: str) -> ExternalId:
    """Record that ``obj`` is ``system``'s (``object_type``, ``external_id``).

    Idempotent: linking the same pair again returns the existing row. Raises ``ValidationError``
    when the external id already names another local record (or was retired), or ``obj`` already has
    a different active id of that kind in ``system``; nothing is written then.
    """
    if obj.pk is None:
        raise ValidationError("Save the record before linking it to an outside system.")
    external_id = str(external_id).strip()
    if not external_id:
        raise ValidationError({"external_id": "An external id is required."})
    content_type = ContentType.objects.get_for_model(obj)
    existing = external_id_find(system=system, object_type=object_type, external_id=external_id)
    if existing is not None:
        if existing.status == ExternalId.Status.RETIRED:
            raise ValidationError({"external_id": f"{System(system).label} {object_type} {external_id} was retired (merged or deleted there)."})
        if existing.content_type_id == content_type.pk and existing.object_id == obj.pk:
            return existing
        raise ValidationError({"external_id": f"{System(system).label} {object_type} {external_id} is already linked to another record."})
    if ExternalId.objects.filter(
        system=system, object_type=object_type, content_type=content_type, object_id=obj.pk, status=ExternalId.Status.ACTIVE
    ).exists():
        raise ValidationError({"system": f"This record is already linked to a different {System(system).label} {object_type} id."})
    row = ExternalId(
        system=system,
        object_type=object_type,
        external_id=external_id,
        content_type=content_type,
        object_id=obj.pk,
    )
    row.full_clean(validate_unique=False, validate_constraints=False)
    try:
        # A savepoint so a concurrent link that won the race surfaces as a field error.
        with transaction.atomic():
            row.save()
    except IntegrityError as exc:
        raise ValidationError({"external_id": "This external id was linked concurrently; try again."}) from exc
    return row


def external_id_link_many(
    *, system: str, object_type: str, links: list[tuple[models.Model, str]], fingerprints: list[str] | None = None
) -> list[ExternalId]:
    """Link many records, each just created here from an outside record, at once (one INSERT per 1,000):
    ``links`` are (record, external id) pairs. With ``fingerprints`` (in the order of ``links``) each link
    is recorded as synced now, as ``external_id_record_sync(ok=True, changed=True)`` would.

    The caller has looked the ids up (none is linked yet) and the records are new (none holds an id of
    that kind). An id linked meanwhile raises ``IntegrityError``: the caller's transaction is rolled back.
    """
    now = timezone.now()
    rows = []
    for n, (obj, external_id) in enumerate(links):
        external_id = str(external_id).strip()
        if obj.pk is None or not external_id or len(external_id) > ExternalId._meta.get_field("external_id").max_length:
            raise ValidationError({"external_id": f"A saved record and an external id (200 characters at most) are required: {external_id[:40]!r}."})
        row = ExternalId(
            system=system, object_type=object_type, external_id=external_id, content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk
        )
        if fingerprints is not None:
            row.last_synced_at = row.last_change_seen_at = now
            row.last_sync_outcome, row.last_sync_reason, row.fingerprint = ExternalId.Outcome.SUCCEEDED, "", fingerprints[n]
        rows.append(row)
    return ExternalId.objects.bulk_create(rows, batch_size=1000)


def external_id_find(*, system: str, object_type: str, external_id: str) -> ExternalId | None:
    """The registry row for an outside id, active or retired, or ``None``."""
    return (
        ExternalId.objects.select_related("content_type", "superseded_by")
        .filter(system=system, object_type=object_type, external_id=str(external_id).strip())
        .first()
    )


def external_id_lookup(*, system: str, object_type: str, external_id: str) -> models.Model | None:
    """The local record an *active* outside id names, or ``None`` (unknown or retired)."""
    row = external_id_find(system=system, object_type=object_type, external_id=external_id)
    if row is None or row.status != ExternalId.Status.ACTIVE:
        return None
    return row.content_type.model_class()._default_manager.filter(pk=row.object_id).first()


def external_id_of(obj: models.Model, *, system: str, object_type: str) -> ExternalId | None:
    """``obj``'s active id of one kind in one system, or ``None``."""
    return ExternalId.objects.filter(
        system=system,
        object_type=object_type,
        status=ExternalId.Status.ACTIVE,
        content_type=ContentType.objects.get_for_model(obj),
        object_id=obj.pk,
    ).first()


def external_ids_for(obj: models.Model) -> dict[str, ExternalId]:
    """Every outside system's active id for ``obj``, keyed by system."""
    content_type = ContentType.objects.get_for_model(obj)
    return {row.system: row for row in ExternalId.objects.filter(content_type=content_type, object_id=obj.pk, status=ExternalId.Status.ACTIVE)}


@transaction.atomic
def external_id_retire(*, row: ExternalId, survivor: ExternalId | None = None) -> ExternalId:
    """Retire an id that was merged (into ``survivor``) or deleted upstream. Idempotent.

    A merged id then points at the survivor's local record; a notification for it never creates one.
    """
    row = ExternalId.objects.select_for_update().get(pk=row.pk)
    if row.status == ExternalId.Status.RETIRED and row.superseded_by_id == (survivor.pk if survivor else None):
        return row
    row.status, row.retired_at, row.superseded_by = ExternalId.Status.RETIRED, timezone.now(), survivor
    if survivor is not None:
        row.content_type_id, row.object_id = survivor.content_type_id, survivor.object_id
    row.save()
    return row


def external_id_record_sync(*, row: ExternalId, ok: bool, reason: str = "", changed: bool = False, fingerprint: str | None = None) -> None:
    """Note a sync of one link on its row: when, the outcome and why; ``changed``: a change was seen."""
    now = timezone.now()
    values = {
        "last_synced_at": now,
        "last_sync_reason": reason[:2000],
        "last_sync_outcome": ExternalId.Outcome.SUCCEEDED if ok else ExternalId.Outcome.FAILED,
    }
    if changed:
        values["last_change_seen_at"] = now
    if fingerprint is not None:
        values["fingerprint"] = fingerprint
    ExternalId.objects.filter(pk=row.pk).update(**values)
    for name, value in values.items():
        setattr(row, name, value)


@transaction.atomic
def external_id_record_retired(*, system: str, object_type: str, external_id: str, survivor: ExternalId) -> ExternalId:
    """Register an id first seen already merged into ``survivor``: retired from the start, so it never links."""
    row, _ = ExternalId.objects.get_or_create(
        system=system,
        object_type=object_type,
        external_id=str(external_id).strip(),
        defaults={
            "content_type_id": survivor.content_type_id,
            "object_id": survivor.object_id,
            "status": ExternalId.Status.RETIRED,
            "superseded_by": survivor,
            "retired_at": timezone.now(),
        },
    )
    return row


@transaction.atomic
def external_id_repoint(*, row: ExternalId, obj: models.Model) -> ExternalId:
    """Point an active id at ``obj``: the same far-side record, now held by a new local row (e.g. a
    contact list replaced as a whole). Raises ``ValidationError`` if ``obj`` holds another id of that kind."""
    content_type = ContentType.objects.get_for_model(obj)
    if (row.content_type_id, row.object_id) == (content_type.pk, obj.pk):
        return row
    if (
        ExternalId.objects.filter(
            system=row.system, object_type=row.object_type, content_type=content_type, object_id=obj.pk, status=ExternalId.Status.ACTIVE
        )
        .exclude(pk=row.pk)
        .exists()
    ):
        raise ValidationError({"system": f"This record is already linked to a different {System(row.system).label} id."})
    ExternalId.objects.filter(pk=row.pk).update(content_type=content_type, object_id=obj.pk)
    row.content_type, row.object_id = content_type, obj.pk
    return row


def external_id_holders(*, external_id: str, kinds: list[tuple[str, str]]) -> list[ExternalId]:
    """The active rows whose id is exactly ``external_id`` in any of ``kinds`` ((system, object type) pairs),
    content type joined: one query on the (system, object type, external id) unique index."""
    external_id = str(external_id).strip()
    if not external_id or not kinds:
        return []
    match = models.Q()
    for system, object_type in kinds:
        match |= models.Q(system=system, object_type=object_type)
    return list(
        ExternalId.objects.select_related("content_type")
        .filter(match, external_id=external_id, status=ExternalId.Status.ACTIVE)
        .order_by("system", "object_type")
    )


def external_id_unlink(*, row: ExternalId) -> None:
    """Forget a link whose local record is gone here (deleted, or merged into another record): the
    far-side record may come back as a new record, or be removed there. A retired id is kept for ever."""
    if row.status == ExternalId.Status.RETIRED:
        raise ValidationError({"external_id": f"{row} was retired; a retired id is never forgotten."})
    ExternalId.objects.filter(pk=row.pk, status=ExternalId.Status.ACTIVE).delete()


@transaction.atomic
def external_id_move_all(*, source: models.Model, target: models.Model) -> int:
    """Every id ``source`` holds (active or retired, any system) now names ``target``: ``source`` was
    merged into ``target`` here. Raises ``ValidationError`` (nothing moved) when both hold an active
    id of one kind in one system. Returns how many ids moved."""
    content_type = ContentType.objects.get_for_model(target)
    if ContentType.objects.get_for_model(source) != content_type:
        raise ValidationError("Only records of one kind can be merged.")
    rows = list(ExternalId.objects.select_for_update().filter(content_type=content_type, object_id=source.pk))
    held = set(
        ExternalId.objects.filter(content_type=content_type, object_id=target.pk, status=ExternalId.Status.ACTIVE).values_list(
            "system", "object_type"
        )
    )
    clash = next((r for r in rows if r.status == ExternalId.Status.ACTIVE and (r.system, r.object_type) in held), None)
    if clash is not None:
        raise ValidationError(
            {"system": f"Both records hold a {clash.get_system_display()} {clash.object_type} id: unlink one of them first, or keep them separate."}
        )
    return ExternalId.objects.filter(pk__in=[r.pk for r in rows]).update(object_id=target.pk)


def external_id_touch(*, system: str, object_type: str, external_ids: list[str]) -> int:
    """Stamp the active links of ``external_ids`` whose last sync succeeded as synced now (a walk met
    them unchanged), in one statement. Returns how many were stamped."""
    return ExternalId.objects.filter(
        system=system,
        object_type=object_type,
        external_id__in=list(external_ids),
        status=ExternalId.Status.ACTIVE,
        last_sync_outcome=ExternalId.Outcome.SUCCEEDED,
    ).update(last_synced_at=timezone.now())
