"""Writes to employees and benefits levels. A change to synced data queues a sync (after commit)."""

from typing import Any

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from accounts.models import AuditLog, User
from accounts.services import audit, record_save
from core.audit import audit_each

from ..models import BenefitsLevel, Employee
from .sync import employee_sync_request

# The fields the platform sees: changing any of them makes the employee's platform copy stale.
SYNCED_FIELDS = [
    "employer_group",
    "first_name",
    "last_name",
    "email",
    "date_of_birth",
    "gender",
    "hire_date",
    "leave_date",
    "annual_pay",
    "pay_frequency",
    "benefits_level",
]
EDITABLE_FIELDS = SYNCED_FIELDS
# Employees that are in the sync (sent at least once): any change to them is sent again.
IN_SYNC = [Employee.SyncState.SUCCESSFUL, Employee.SyncState.FAILED]
_ATTNAMES = {f: Employee._meta.get_field(f).attname for f in EDITABLE_FIELDS}  # a key, not its record (no query)
CHUNK = 1000


def _values(employee: Employee) -> dict[str, Any]:
    """The editable fields' values, by column (a foreign key's id, not its record: no query)."""
    return {attname: getattr(employee, attname) for attname in _ATTNAMES.values()}


def _changed(employee: Employee, before: dict[str, Any]) -> list[str]:
    """The editable fields changed since ``before`` (``_values``); the change version is bumped when a
    synced one did, so a running attempt sees the change and sends it."""
    changed = [field for field, attname in _ATTNAMES.items() if getattr(employee, attname) != before[attname]]
    if any(field in SYNCED_FIELDS for field in changed):
        employee.change_version += 1
    return changed


@transaction.atomic
def employee_create(*, actor: User | None, create_benefits_record: bool = False, **fields: Any) -> Employee:
    """Add an employee; with ``create_benefits_record`` the first sync is queued at once.

    Raises ``ValidationError`` with field errors; nothing is written then.
    """
    employee = Employee(**{k: v for k, v in fields.items() if k in EDITABLE_FIELDS})
    employee.full_clean()
    employee.save()
    audit(actor=actor, action=AuditLog.Action.CREATE, obj=employee)
    if create_benefits_record:
        employee_sync_request(actor=actor, employees=[employee.pk])
        employee.refresh_from_db()
    return employee


@transaction.atomic
def employee_update(*, actor: User | None, employee: Employee, data: dict[str, Any]) -> Employee:
    """Change an employee's HR data; if they are in the sync, the change is queued for the platform.

    A change made while an attempt is running bumps the change version: the running attempt sees it
    when it finishes and queues the change, so it is never lost. Raises ``ValidationError``.
    """
    locked = Employee.objects.select_for_update().get(pk=employee.pk)
    before = _values(locked)
    for field, value in data.items():
        if field in EDITABLE_FIELDS:
            setattr(locked, field, value)
    locked.full_clean()
    changed = _changed(locked, before)
    locked.save()
    audit(
        actor=actor,
        action=AuditLog.Action.UPDATE,
        obj=locked,
        summary="Changed " + ", ".join(changed) if changed else "Saved without changes",
        data={"fields": changed},
    )
    if changed and locked.sync_state in IN_SYNC:
        employee_sync_request(actor=actor, employees=[locked.pk])
        locked.refresh_from_db()
    return locked


@transaction.atomic
def employees_import(*, actor: User | None, created: list[Employee], updated: list[Employee], benefits_records: list[Employee] = ()) -> None:
    """Write one chunk of a census (``employee_create`` / ``employee_update`` for many, set-based):
    ``created`` new employees, ``updated`` existing ones carrying their new HR data.

    The caller has validated each employee (``full_clean``) and matched them by employer group and
    email, so no two share one. Every employee created or changed gets its own audit row; one sync
    request (audited once) queues those in ``benefits_records`` and the changed ones in the sync.
    """
    Employee.objects.bulk_create(created, batch_size=CHUNK)
    audit_each(actor=actor, action=AuditLog.Action.CREATE, objs=created)
    # Changes are made on the rows locked (in primary-key order), against their current values.
    incoming = {employee.pk: employee for employee in updated}
    locked = list(Employee.objects.select_for_update().filter(pk__in=list(incoming)).order_by("pk"))
    changed, summaries, data, now = [], [], [], timezone.now()
    for row in locked:
        before = _values(row)
        for attname, value in _values(incoming[row.pk]).items():
            setattr(row, attname, value)
        fields = _changed(row, before)
        if not fields:
            continue
        row.updated_at = now
        changed.append(row)
        summaries.append("Changed " + ", ".join(fields))
        data.append({"fields": fields})
    Employee.objects.bulk_update(changed, [*EDITABLE_FIELDS, "change_version", "updated_at"], batch_size=CHUNK)
    audit_each(actor=actor, action=AuditLog.Action.UPDATE, objs=changed, summaries=summaries, data=data)
    to_sync = [e.pk for e in benefits_records] + [e.pk for e in changed if e.sync_state in IN_SYNC]
    if to_sync:
        employee_sync_request(actor=actor, employees=to_sync)


@transaction.atomic
def employees_assign_benefits_level(*, actor: User | None, employees: QuerySet, level: BenefitsLevel) -> int:
    """Give every employee in ``employees`` the benefits ``level``; returns how many changed.

    Set-based (one UPDATE); the ones in the sync are queued for the platform.
    """
    ids = list(employees.exclude(benefits_level=level).order_by().values_list("pk", flat=True))
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        Employee.objects.filter(pk__in=chunk).update(benefits_level=level, change_version=F("change_version") + 1, updated_at=timezone.now())
        employee_sync_request(actor=actor, employees=Employee.objects.filter(pk__in=chunk, sync_state__in=IN_SYNC), audited=False)
    audit(
        actor=actor,
        action=AuditLog.Action.BULK,
        model=Employee,
        object_repr=f"Benefits level {level}",
        summary=f"Assigned benefits level {level} to {len(ids)} employees",
        data={"level": level.pk, "count": len(ids)},
    )
    return len(ids)


@transaction.atomic
def benefits_level_save(*, actor: User | None, level: BenefitsLevel, changed: list[str] | None = None) -> BenefitsLevel:
    """Save a benefits level; a new package mapping is sent for every employee in the sync on it."""
    old_code = None if level._state.adding else BenefitsLevel.objects.values_list("package_code", flat=True).get(pk=level.pk)
    record_save(actor=actor, instance=level, changed=changed)
    if old_code is not None and old_code != level.package_code:
        on_level = Employee.objects.filter(benefits_level=level)
        on_level.update(change_version=F("change_version") + 1)
        employee_sync_request(actor=actor, employees=on_level.filter(sync_state__in=IN_SYNC), audited=False)
    return level
