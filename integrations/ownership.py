"""Fields an outside system owns: a local edit to one is refused while the record is linked to it.

An app that mirrors an outside system registers the fields it owns per model
(``fields_owned_by(...)``); the owning apps' services call ``owned_fields_check`` before they save.
The mirror's own writes run inside ``writing_as(system)`` and pass.
"""

import contextvars
from collections.abc import Callable
from contextlib import contextmanager

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models

from core.audit import system_writing

from .models import ExternalId

_OWNED: dict[str, list[tuple[str, str, frozenset[str]]]] = {}  # "app.model" -> [(system, object_type, fields)]
_writer: contextvars.ContextVar[str | None] = contextvars.ContextVar("integrations_writer", default=None)


def fields_owned_by(*, system: str, object_type: str, model: str, fields) -> None:
    """Declare that ``system`` owns ``fields`` of ``model`` ("app_label.model") on records linked to it."""
    _OWNED.setdefault(model, []).append((system, object_type, frozenset(fields)))


@contextmanager
def writing_as(system: str):
    """Writes made inside come from ``system`` itself (a sync), so its owned fields may change."""
    token = _writer.set(system)
    try:
        with system_writing(system):  # its audit rows name the system
            yield
    finally:
        _writer.reset(token)


def owned_fields_check(*, instance: models.Model, changed) -> None:
    """Raise ``ValidationError`` naming each changed field an outside system owns on this record."""
    if instance.pk is None or not changed:
        return
    for system, object_type, fields in _OWNED.get(instance._meta.label_lower, []):
        touched = sorted(fields.intersection(changed))
        if not touched or _writer.get() == system:
            continue
        linked = ExternalId.objects.filter(
            system=system,
            object_type=object_type,
            status=ExternalId.Status.ACTIVE,
            content_type=ContentType.objects.get_for_model(instance),
            object_id=instance.pk,
        ).exists()
        if linked:
            label = ExternalId.System(system).label.lower()
            raise ValidationError(dict.fromkeys(touched, f"This field is owned by the {label}; change it there."))


def owned_fields(instance: models.Model) -> dict[str, dict]:
    """``{field: {"system": code, "synced_at": datetime | None}}`` for each field an outside system owns on
    this record now (it is linked there); one query."""
    declared = _OWNED.get(instance._meta.label_lower, [])
    if instance.pk is None or not declared:
        return {}
    links = {
        (row.system, row.object_type): row
        for row in ExternalId.objects.filter(
            content_type=ContentType.objects.get_for_model(instance), object_id=instance.pk, status=ExternalId.Status.ACTIVE
        )
    }
    owned = {}
    for system, object_type, fields in declared:
        row = links.get((system, object_type))
        if row is not None:
            for name in fields:
                owned[name] = {"system": system, "synced_at": row.last_synced_at}
    return owned


def owned_fields_checker(model: type[models.Model], pks) -> Callable[[models.Model, list[str]], None]:
    """``owned_fields_check`` for many records of ``model`` (``pks``), with one query per owning system in
    all rather than one per record (an import's chunk). The function returned raises the same
    ``ValidationError`` for a record among ``pks`` and its changed fields."""
    linked: dict[int, list[tuple[str, frozenset[str]]]] = {}
    ids = [pk for pk in pks if pk is not None]
    for system, object_type, fields in _OWNED.get(model._meta.label_lower, []) if ids else ():
        if _writer.get() == system:
            continue
        found = ExternalId.objects.filter(
            system=system,
            object_type=object_type,
            status=ExternalId.Status.ACTIVE,
            content_type=ContentType.objects.get_for_model(model),
            object_id__in=ids,
        ).values_list("object_id", flat=True)
        for object_id in found:
            linked.setdefault(object_id, []).append((system, fields))

    def check(instance: models.Model, changed) -> None:
        for system, fields in linked.get(instance.pk, ()) if instance.pk is not None and changed else ():
            if touched := sorted(fields.intersection(changed)):
                label = ExternalId.System(system).label.lower()
                raise ValidationError(dict.fromkeys(touched, f"This field is owned by the {label}; change it there."))

    return check
