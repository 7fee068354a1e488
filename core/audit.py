"""The one audit helper every service in the project uses, and validated, audited saves and deletes."""

import contextvars
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import models, transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone

from .errors import ApplicationError
from .models import AuditLog

User = AbstractBaseUser

# The outside system whose sync is writing (``integrations.ownership.writing_as`` sets it): its audit rows
# carry ``data["system"]`` so a record's timeline says which system made a change no person made.
_system: contextvars.ContextVar[str | None] = contextvars.ContextVar("audit_system", default=None)


@contextmanager
def system_writing(system: str):
    token = _system.set(system)
    try:
        yield
    finally:
        _system.reset(token)


def _with_system(data: dict | None) -> dict:
    system = _system.get()
    return {**(data or {}), "system": system} if system and not (data or {}).get("system") else (data or {})


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
    entry = _entry(actor=actor, action=action, obj=obj, model=model, summary=summary, data=data, object_repr=object_repr)
    entry.save(force_insert=True)
    return entry


def audit_each(
    *, actor: User | None, action: str, objs: list[models.Model], summaries: list[str] | None = None, data: list[dict] | None = None
) -> list[AuditLog]:
    """One audit row per record of a bulk write (records of one model), as ``audit(obj=...)`` writes it,
    all in one INSERT; ``summaries`` and ``data``, when given, are per record (in the order of ``objs``)."""
    if not objs:
        return []
    common = _common(actor=actor, action=action, target=objs[0])
    return AuditLog.objects.bulk_create(
        [
            AuditLog(**common, **_about(obj), summary=summaries[i] if summaries else "", data=_with_system(data[i] if data else {}))
            for i, obj in enumerate(objs)
        ]
    )


def _entry(*, actor, action, obj=None, model=None, summary="", data=None, object_repr="") -> AuditLog:
    about = _about(obj, object_repr)
    return AuditLog(
        **_common(actor=actor, action=action, target=obj if obj is not None else model), **about, summary=summary, data=_with_system(data)
    )


def _common(*, actor, action, target) -> dict:
    """What the audit rows of one action by one actor on one model share."""
    return {
        "actor": actor if actor is not None and actor.pk else None,
        "actor_repr": actor.get_username() if actor is not None and actor.pk else "",
        "action": action,
        "content_type": ContentType.objects.get_for_model(target) if target is not None else None,
    }


def _about(obj, object_repr: str = "") -> dict:
    return {
        "object_id": str(obj.pk) if obj is not None and obj.pk is not None else "",
        "object_repr": (object_repr or (str(obj) if obj is not None else ""))[:200],
    }


@transaction.atomic
def record_save(*, actor: User | None, instance: models.Model, changed: list[str] | None = None) -> models.Model:
    """Validate and save one record, auditing it as created or updated.

    Raises ``ValidationError`` and writes nothing when the record is invalid.
    """
    creating = instance._state.adding
    instance.full_clean()
    before = None if creating or not changed else type(instance)._base_manager.filter(pk=instance.pk).first()
    instance.save()
    summary = "" if creating else ("Changed " + ", ".join(changed) if changed else "Saved without changes")
    data = {"fields": list(changed or [])}
    if before is not None:
        data["changes"] = field_changes(before=before, after=instance, changed=changed)
    audit(
        actor=actor,
        action=AuditLog.Action.CREATE if creating else AuditLog.Action.UPDATE,
        obj=instance,
        summary=summary,
        data=data,
    )
    return instance


@transaction.atomic
def records_save_many(
    *, actor: User | None, model: type[models.Model], created: list, updated: list[tuple[models.Model, dict, list[str]]], columns: list[str]
) -> None:
    """``record_save`` for many records of ``model`` (an import's chunk), set-based: ``created`` inserted
    together, ``updated`` (record, its column values before as ``{attname: value}``, the names it changed)
    written together (``columns``: the fields to write; ``auto_now`` ones are added), one audit row per
    record as ``record_save`` writes it, all in one INSERT. The caller has validated every record
    (``full_clean``) and matched them on their unique fields, so no two clash; a record with no change is
    audited "Saved without changes" and not written."""
    if created:
        model._default_manager.bulk_create(created, batch_size=1000)
        audit_each(actor=actor, action=AuditLog.Action.CREATE, objs=created, data=[{"fields": []}] * len(created))
    if not updated:
        return
    now, stamped = timezone.now(), [f for f in model._meta.concrete_fields if getattr(f, "auto_now", False)]
    changed = [obj for obj, _, names in updated if names]
    for obj in changed:
        for f in stamped:
            setattr(obj, f.attname, now)
    if changed and columns:
        model._default_manager.bulk_update(changed, sorted({*columns, *(f.name for f in stamped)}), batch_size=1000)
    befores = _befores(model, updated)
    summaries, data = [], []
    token = _key_descriptions.set({})
    try:
        for (obj, _, names), before in zip(updated, befores, strict=True):
            summaries.append("Changed " + ", ".join(names) if names else "Saved without changes")
            data.append({"fields": list(names), **({"changes": field_changes(before=before, after=obj, changed=names)} if names else {})})
    finally:
        _key_descriptions.reset(token)
    audit_each(actor=actor, action=AuditLog.Action.UPDATE, objs=[obj for obj, _, _ in updated], summaries=summaries, data=data)


def _befores(model, updated) -> list:
    """The records as they were (from their values before), their changed foreign keys' records found in
    one query per foreign key rather than one per record (``field_changes`` shows them by name)."""
    names = [f.attname for f in model._meta.concrete_fields]
    befores = [model(**{n: values[n] for n in names if n in values}) for _, values, _ in updated]
    for field in model._meta.concrete_fields:
        if not field.is_relation or not any(field.name in changed for _, _, changed in updated):
            continue
        ids = {getattr(before, field.attname) for before in befores} - {None}
        found = field.related_model._default_manager.in_bulk(list(ids)) if ids else {}
        for before in befores:
            if (pk := getattr(before, field.attname)) in found:
                field.set_cached_value(before, found[pk])
    return befores


# Never written to the audit log in clear: the row says that they changed, not to what.
_SECRET_FIELD_PARTS = ("ssn", "medicare_beneficiary", "drivers_license", "password", "_hash", "encrypted", "secret", "token", "api_key")


def _scrubbed(value):
    """A JSON value with the entries named like a secret masked (criteria's ``ssn_hash``: a keyed hash
    compared with a guess's would tell the SSN)."""
    if isinstance(value, dict):
        return {k: "(not shown)" if any(part in str(k) for part in _SECRET_FIELD_PARTS) else _scrubbed(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrubbed(v) for v in value]
    return value


# How the keys of a JSON field of key -> value (custom fields) read in an audit row: the app that owns the
# field registers ``describe(keys) -> {key: (label, value -> text)}`` under "app_label.model.field".
_json_key_readers: dict[str, Callable[[list[str]], dict[str, tuple[str, Callable[[Any], str]]]]] = {}


# While many records are audited at once (``records_save_many``): what each JSON key reads as, looked up once
# per key rather than once per record.
_key_descriptions: contextvars.ContextVar[dict | None] = contextvars.ContextVar("audit_key_descriptions", default=None)


def json_keys_readable(label: str, describe: Callable[[list[str]], dict[str, tuple[str, Callable[[Any], str]]]]) -> None:
    """Register how the keys of the JSON field ``label`` ("individuals.individual.custom_fields") read."""
    _json_key_readers[label] = describe


def _key_changes(field, old: dict, new: dict) -> dict[str, dict]:
    """Only the keys of a key -> value JSON field that changed, each as its own "Label: old → new"."""
    from core.display import humanize_key, text

    keys = [k for k in dict.fromkeys([*old, *new]) if old.get(k) != new.get(k)]
    label_lower = f"{field.model._meta.label_lower}.{field.name}"
    reader = _json_key_readers.get(label_lower)
    memo = _key_descriptions.get()
    if not reader:
        described = {}
    elif memo is None:
        described = reader(keys)
    else:
        described = memo.setdefault(label_lower, {})
        if missing := [k for k in keys if k not in described]:
            described.update(dict.fromkeys(missing), **reader(missing))
        described = {k: v for k, v in described.items() if v is not None}
    changes = {}
    for key in keys:
        label, as_text = described.get(key, (humanize_key(key), lambda value: text(_scrubbed(value))))
        if any(part in str(key) for part in _SECRET_FIELD_PARTS):
            changes[f"{field.name}.{key}"] = {"label": label, "old": "(not shown)", "new": "(not shown)"}
        else:
            changes[f"{field.name}.{key}"] = {"label": label, "old": as_text(old.get(key)), "new": as_text(new.get(key))}
    return changes


def field_changes(*, before: models.Model, after: models.Model, changed: list[str]) -> dict[str, dict]:
    """``{"field": {"label", "old", "new"}}`` as people read them (choice labels, names, dates); secrets masked.

    A JSON field of key -> value (custom fields) gives one entry per key that changed
    (``"custom_fields.income"``), not the whole old set and the whole new set."""
    from core.display import text

    changes = {}
    for name in changed:
        try:
            field = after._meta.get_field(name)
        except FieldDoesNotExist:  # a form-only field (e.g. a custom field input): named, values not kept here
            continue
        if not getattr(field, "concrete", False) or field.many_to_many:
            continue
        label = str(field.verbose_name)
        if any(part in name for part in _SECRET_FIELD_PARTS):
            changes[name] = {"label": label, "old": "(not shown)", "new": "(not shown)"}
            continue
        old, new = getattr(before, field.attname), getattr(after, field.attname)
        if isinstance(field, models.JSONField) and isinstance(old or {}, dict) and isinstance(new or {}, dict):
            changes.update(_key_changes(field, old or {}, new or {}))
            continue
        values = []
        for obj in (before, after):
            if field.is_relation:
                value = getattr(obj, name, None)
            elif field.choices:
                raw = getattr(obj, field.attname)
                value = dict(field.flatchoices).get(raw, raw)
            else:
                value = _scrubbed(getattr(obj, field.attname))
            values.append(text(str(value) if isinstance(value, models.Model) else value))
        changes[name] = {"label": label[:1].upper() + label[1:], "old": values[0], "new": values[1]}
    return changes


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
