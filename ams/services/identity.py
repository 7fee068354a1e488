"""Links made by a person, name-search candidates, and identity conflicts (merge or keep separate).

A name search only proposes candidates; a link is always a person's choice of one id. Linking an
id another record holds opens an identity conflict instead of a second link. Every decision is
audited; each needs Edit on the record's area (individuals or employer groups).
"""

import datetime
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import AuditLog, User
from accounts.services import audit
from core.errors import ApplicationError
from individuals.models import Individual
from individuals.services import individual_delete, policy_save
from integrations.clients.ams360 import ams360_client
from integrations.http import IntegrationError
from integrations.models import ExternalId
from integrations.ownership import writing_as
from integrations.registry import external_id_find, external_id_link, external_id_move_all
from plans.models import EmployerGroup
from plans.services import employer_group_delete, plan_update

from .. import mapping
from ..mapping import CUSTOMER, SYSTEM
from ..models import IdentityConflict
from .crm import crm_push_enqueue, crm_remove_enqueue
from .sync import customer_sync_request

LINKABLE = {"individual": Individual, "employergroup": EmployerGroup}


def _require_edit(actor: User, obj) -> None:
    if not actor.has_perm(f"{obj._meta.app_label}.change_{obj._meta.model_name}"):
        raise PermissionDenied


CANDIDATES_PER_PAGE = 25


@dataclass(frozen=True)
class CandidatePage:
    """One page of the customers a name search found: ``count`` of them in all, ``results`` described."""

    count: int
    number: int
    pages: int
    per_page: int
    results: list[dict]

    @property
    def first(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.count else 0

    @property
    def last(self) -> int:
        return min(self.count, self.number * self.per_page)


def _customers_found(name_prefix: str, client) -> list[dict]:
    if len(name_prefix.strip()) < 2:
        raise ValidationError({"name_prefix": "Type at least two characters."})
    try:
        return (client or ams360_client()).customers_by_name_prefix(name_prefix.strip())
    except IntegrationError as exc:
        raise ApplicationError(f"The agency management system could not be searched: {exc.message}") from exc


def _date(value) -> datetime.date | None:
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _described(customers: list[dict]) -> list[dict]:
    """What tells two customers apart (number, date of birth, email, address) and which of our records
    already holds each one's id: the registry rows and their records in a few queries, not one per row."""
    rows = {
        row.external_id: row
        for row in ExternalId.objects.select_related("content_type").filter(
            system=SYSTEM, object_type=CUSTOMER, external_id__in=[c["CustomerId"] for c in customers]
        )
    }
    by_type: dict[int, list[int]] = {}
    for row in rows.values():
        by_type.setdefault(row.content_type_id, []).append(row.object_id)
    types = {row.content_type_id: row.content_type for row in rows.values()}
    records = {ct: types[ct].model_class()._default_manager.in_bulk(ids) for ct, ids in by_type.items()}
    out = []
    for c in customers:
        row = rows.get(c["CustomerId"])
        holder = records.get(row.content_type_id, {}).get(row.object_id) if row is not None else None
        address = ", ".join(
            filter(None, [c.get("AddressLine1") or "", c.get("City") or "", " ".join(filter(None, [c.get("State") or "", c.get("ZipCode") or ""]))])
        )
        out.append(
            {
                "customer_id": c["CustomerId"],
                "customer_number": c["CustomerNumber"],
                "name": mapping.customer_display_name(c),
                "kind": "Commercial" if mapping.is_commercial(c) else "Personal",
                "city": c.get("City") or "",
                "date_of_birth": _date(c.get("DateOfBirth") or c.get("BirthDate")),
                "email": c.get("Email") or "",
                "address": address,
                "linked": row is not None,
                "linked_to": holder,
            }
        )
    return out


def customer_candidates(*, name_prefix: str, client=None) -> list[dict]:
    """The first 50 AMS customers whose name starts with ``name_prefix``: for a person to pick from, never
    linked by themselves (the admin pages through them all: ``customer_candidate_page``)."""
    return _described(_customers_found(name_prefix, client)[:50])


def customer_candidate_page(*, name_prefix: str, page: int = 1, per_page: int = CANDIDATES_PER_PAGE, client=None) -> CandidatePage:
    """Page ``page`` of the AMS customers whose name starts with ``name_prefix``, with how many there are."""
    found = _customers_found(name_prefix, client)
    pages = max(1, -(-len(found) // per_page))
    number = min(max(1, page), pages)
    chunk = found[(number - 1) * per_page : number * per_page]
    return CandidatePage(count=len(found), number=number, pages=pages, per_page=per_page, results=_described(chunk))


def customer_link(*, actor: User, obj, customer_id: str) -> ExternalId:
    """Link ``obj`` to the AMS customer a person picked (by id), then bring it in.

    Raises ``PermissionDenied`` without Edit on the record's area; ``ApplicationError`` when another
    record holds that id (an identity conflict is opened for a person to decide).
    """
    _require_edit(actor, obj)
    customer_id = str(customer_id).strip()
    holder = external_id_find(system=SYSTEM, object_type=CUSTOMER, external_id=customer_id)
    if (
        holder is not None
        and holder.status == ExternalId.Status.ACTIVE
        and (holder.content_type_id, holder.object_id) != (ContentType.objects.get_for_model(obj).pk, obj.pk)
    ):
        if holder.content_type_id == ContentType.objects.get_for_model(obj).pk:
            conflict = conflict_open(
                kind=IdentityConflict.Kind.SHARED_ID,
                row=holder,
                other=obj,
                description=f"“{obj}” was linked to AMS customer {customer_id}, which “{holder.record}” already holds.",
            )
            raise ApplicationError(
                f"AMS customer {customer_id} is already linked to “{holder.record}”: identity conflict "
                f"#{conflict.pk} was opened for a person to merge or keep them separate.",
                {"conflict": conflict.pk},
            )
        raise ApplicationError(f"AMS customer {customer_id} is already linked to “{holder.record}”.")
    with transaction.atomic():
        row = external_id_link(obj=obj, system=SYSTEM, object_type=CUSTOMER, external_id=customer_id)
        audit(
            actor=actor,
            action=AuditLog.Action.UPDATE,
            obj=obj,
            summary=f"Linked to AMS customer {customer_id}",
            data={"system": SYSTEM, "external_id": customer_id},
        )
        customer_sync_request(customer_id=customer_id, actor=actor)  # brought in after commit
    return row


def record_link(*, actor: User, obj, system: str, object_type: str, external_id: str) -> ExternalId:
    """Link ``obj`` to an outside system's id a person picked; audited. An AMS customer is linked by
    ``customer_link`` (and brought in). Raises ``PermissionDenied`` without Edit on the record's area,
    ``ValidationError`` when the id names another record, ``ApplicationError`` as ``customer_link`` does."""
    if system == ExternalId.System.AMS and object_type == CUSTOMER:
        return customer_link(actor=actor, obj=obj, customer_id=external_id)
    _require_edit(actor, obj)
    with transaction.atomic():
        row = external_id_link(obj=obj, system=system, object_type=object_type, external_id=external_id)
        audit(
            actor=actor,
            action=AuditLog.Action.UPDATE,
            obj=obj,
            summary=f"Linked to {row}",
            data={"system": row.system, "external_id": row.external_id},
        )
    return row


@transaction.atomic
def conflict_open(*, kind: str, row: ExternalId, other, description: str) -> IdentityConflict:
    conflict, _ = IdentityConflict.objects.get_or_create(
        content_type_id=row.content_type_id,
        object_id=row.object_id,
        other_object_id=other.pk,
        status=IdentityConflict.Status.OPEN,
        defaults={"kind": kind, "system": row.system, "object_type": row.object_type, "external_id": row.external_id, "description": description},
    )
    return conflict


def _merge_records(*, actor: User, keep, drop) -> None:
    """Move what ``drop`` has onto ``keep`` through the owning apps' services, then delete ``drop``."""
    with writing_as(SYSTEM):
        if isinstance(keep, Individual):
            for policy in drop.policies.all():
                policy.individual = keep
                policy_save(actor=actor, policy=policy, changed=["individual"])
        else:
            for plan in drop.plans.all():
                plan_update(actor=actor, plan=plan, data={"group": keep})
    # One CRM record per account: the dropped one's is removed there after commit.
    crm_remove_enqueue(drop)
    # Ids the dropped record held (other systems, retired AMS ids) now name the kept record.
    try:
        external_id_move_all(source=drop, target=keep)
    except ValidationError as exc:
        raise ApplicationError("; ".join(exc.messages)) from exc
    if isinstance(drop, Individual):
        individual_delete(actor=actor, individual=drop)
    else:
        employer_group_delete(actor=actor, group=drop)


@transaction.atomic
def conflict_resolve(*, actor: User, conflict: IdentityConflict, decision: str) -> IdentityConflict:
    """``merge``: the other record's policies/plans and ids move to the record that keeps the far-side id,
    and the other record is deleted. ``separate``: both stay; the other holds no link to that id.

    Raises ``PermissionDenied`` without Edit on the records' area, ``ApplicationError`` when the
    conflict is already decided or the merge is blocked (nothing is written then).
    """
    conflict = IdentityConflict.objects.select_for_update().get(pk=conflict.pk)
    if conflict.status != IdentityConflict.Status.OPEN:
        raise ApplicationError(f"This conflict was already decided ({conflict.get_status_display()}).")
    if decision not in ("merge", "separate"):
        raise ValidationError({"decision": "Choose merge or separate."})
    keep, other = conflict.records()
    for obj in (keep, other):
        if obj is not None:
            _require_edit(actor, obj)
    if decision == "merge":
        if keep is None or other is None:
            raise ApplicationError("One of the two records no longer exists: keep them separate instead.")
        _merge_records(actor=actor, keep=keep, drop=other)
        conflict.status = IdentityConflict.Status.MERGED
    else:
        conflict.status = IdentityConflict.Status.SEPARATED
    conflict.decided_by, conflict.decided_at = actor, timezone.now()
    conflict.save(update_fields=["status", "decided_by", "decided_at"])
    audit(
        actor=actor,
        action=AuditLog.Action.UPDATE,
        obj=conflict,
        summary=f"{'Merged' if decision == 'merge' else 'Kept separate'}: {conflict.description}",
        data={"decision": decision, "kept": str(keep), "other": str(other)},
    )
    if keep is not None:
        crm_push_enqueue(keep)
    return conflict
