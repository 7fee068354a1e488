"""The one audit helper every service in the project uses, and validated, audited saves and deletes."""
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import ProtectedError, RestrictedError

from .errors import ApplicationError
from .models import AuditLog

User = AbstractBaseUser


def audit(
    *,
    actor: User | None,
    action: str,
    obj: models.Model | None = None,
    model: type[models.Model] | None = None,
    summary: str = "",
    data: dict[str, Any] | None = None,
    object_repr: str = "",
) -> AuditLog:
    """Append one audit row. ``obj`` names a single record; ``model`` a bulk job's model.

    Callers pass masked values only: the audit log never holds full personal data.
    """
    target = obj if obj is not None else model
    return AuditLog.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        actor_repr=actor.get_username() if actor is not None and actor.pk else "",
        action=action,
        content_type=ContentType.objects.get_for_model(target) if target is not None else None,
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        object_repr=(object_repr or (str(obj) if obj is not None else ""))[:200],
        summary=summary,
        data=data or {},
    )


@transaction.atomic
def record_save(*, actor: User | None, instance: models.Model, changed: list[str] | None = None) -> models.Model:
    """Validate and save one record, auditing it as created or updated.

    Raises ``ValidationError`` and writes nothing when the record is invalid.
    """
    creating = instance._state.adding
    instance.full_clean()
    instance.save()
    summary = "" if creating else ("Changed " + ", ".join(changed) if changed else "Saved without changes")
    audit(
        actor=actor,
        action=AuditLog.Action.CREATE if creating else AuditLog.Action.UPDATE,
        obj=instance,
        summary=summary,
        data={"fields": list(changed or [])},
    )
    return instance


@transaction.atomic
def record_delete(*, actor: User | None, instance: models.Model, instead: str = "") -> None:
    """Delete one record and audit it (the audit row keeps its name and id).

    Raises ``ApplicationError`` naming what still refers to the record (protected foreign keys),
    followed by ``instead`` (what to do rather than delete); nothing is written then.
    """
    audit(actor=actor, action=AuditLog.Action.DELETE, obj=instance)
    try:
        instance.delete()
    except (ProtectedError, RestrictedError) as exc:
        blockers = exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
        kinds = sorted({str(obj._meta.verbose_name_plural) for obj in blockers})
        message = f"{instance} can't be deleted: {len(blockers)} record(s) still refer to it ({', '.join(kinds)})."
        raise ApplicationError(f"{message} {instead}".strip()) from exc
