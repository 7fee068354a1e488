"""Bring AMS customers (with their contacts and policies) into AgencyDesk, by id only.

A personal customer is an individual, a commercial one an employer group; a personal customer's
policies are the individual's policies; a commercial customer's contacts are the group's contacts.
The AMS owns the mapped fields: we copy them as they are now, whatever order notifications came in.
Merged and deleted customers retire their id (pointing at the survivor); a retired id never
creates a record again.
"""
import hashlib
import json
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from individuals.models import Individual, Policy
from individuals.services import individual_create, individual_update, policy_save
from integrations.http import IntegrationError
from integrations.models import ExternalId
from integrations.ownership import writing_as
from integrations.registry import (
    external_id_find,
    external_id_link,
    external_id_record_retired,
    external_id_record_sync,
    external_id_repoint,
    external_id_retire,
)
from plans.models import Carrier, EmployerGroup, EmployerGroupContact
from plans.services import employer_group_create, employer_group_update

from .. import mapping
from ..mapping import CONTACT, CUSTOMER, POLICY, SYSTEM, MappingError
from ..models import IdentityConflict, SyncAttempt

Status = ExternalId.Status


@dataclass
class Outcome:
    """What one customer's sync did: ``created``, ``updated``, ``unchanged``, ``retired``, ``ignored``."""

    kind: str
    record: object = None
    changes: list = field(default_factory=list)
    failures: list = field(default_factory=list)
    reason: str = ""

    @property
    def repaired(self) -> bool:
        return self.kind in ("created", "updated", "retired")


class Snapshot:
    """What AgencyDesk holds for a batch of AMS customers and policies, loaded in a few queries."""

    def __init__(self, customer_ids, policy_ids=()):
        rows = ExternalId.objects.filter(system=SYSTEM, object_type=CUSTOMER, external_id__in=list(customer_ids))
        prows = ExternalId.objects.filter(system=SYSTEM, object_type=POLICY, external_id__in=list(policy_ids))
        self.rows = {(r.object_type, r.external_id): r for r in [*rows, *prows]}
        by_type: dict[int, set] = {}
        for r in self.rows.values():
            by_type.setdefault(r.content_type_id, set()).add(r.object_id)
        self.objects = {}
        for ct_id, ids in by_type.items():
            model = ContentType.objects.get_for_id(ct_id).model_class()
            qs = model._default_manager.all()
            if model is EmployerGroup:
                qs = qs.prefetch_related("contacts")
            for obj in qs.filter(pk__in=ids):
                self.objects[(ct_id, obj.pk)] = obj

    def row(self, object_type: str, external_id: str) -> ExternalId | None:
        return self.rows.get((object_type, external_id))

    def record(self, row: ExternalId | None):
        return None if row is None else self.objects.get((row.content_type_id, row.object_id))


def carriers() -> dict:
    return {c.code: c for c in Carrier.objects.all()}


def fingerprint(values) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()


def _diff(obj, values: dict) -> dict:
    return {k: v for k, v in values.items() if getattr(obj, k) != v}


def _local_contacts(group: EmployerGroup) -> list[dict]:
    ordered = sorted(group.contacts.all(), key=lambda c: c.pk)
    return [{"name": c.name, "title": c.title, "email": c.email, "phone": c.phone, "is_primary": c.is_primary} for c in ordered]


def _link_contacts(group: EmployerGroup, contacts: list[dict]) -> None:
    """Link the group's contacts (stored in AMS SortOrder) to the AMS contact ids, re-pointing old links."""
    ordered = sorted(contacts, key=lambda c: (c.get("SortOrder") if c.get("SortOrder") is not None else 999, c.get("CustomerContactId") or ""))
    for local, far in zip(EmployerGroupContact.objects.filter(group=group).order_by("pk"), ordered, strict=False):
        row = external_id_find(system=SYSTEM, object_type=CONTACT, external_id=far["CustomerContactId"])
        if row is None:
            external_id_link(obj=local, system=SYSTEM, object_type=CONTACT, external_id=far["CustomerContactId"])
        else:
            external_id_repoint(row=row, obj=local)


def _policy_values(policy: dict, carrier_map: dict, individual: Individual) -> dict:
    """A policy's mapped values keyed by column (``carrier_id``, ``individual_id``): compared without queries."""
    values = mapping.policy_values(policy, carrier_map)
    carrier = values.pop("carrier")  # by id: comparing the related object would read it, once per policy
    return {**values, "carrier_id": carrier.pk, "individual_id": individual.pk}


def _in_step(*, customer: dict, contacts: list[dict], policies: list[dict], snapshot: Snapshot, carrier_map: dict) -> Outcome | None:
    """The unchanged case, decided from the snapshot without a transaction; None when anything must be written."""
    row = snapshot.row(CUSTOMER, customer["CustomerId"])
    local = snapshot.record(row)
    if row is None or local is None or row.status != Status.ACTIVE or row.last_sync_outcome != ExternalId.Outcome.SUCCEEDED:
        return None
    if mapping.is_commercial(customer):
        if _diff(local, mapping.group_values(customer)) or _local_contacts(local) != mapping.contact_values(contacts):
            return None
        return Outcome("unchanged", local)
    if _diff(local, mapping.individual_values(customer)):
        return None
    for far in policies:
        policy = snapshot.record(snapshot.row(POLICY, far["PolicyId"]))
        try:
            if policy is None or _diff(policy, _policy_values(far, carrier_map, local)):
                return None
        except MappingError:
            return None
    return Outcome("unchanged", local)


def customer_apply(*, customer: dict, contacts: list[dict], policies: list[dict], snapshot: Snapshot,
                   carrier_map: dict, touch: bool = True) -> Outcome:
    """Make AgencyDesk's copy of one AMS customer equal to ``customer`` (as fetched now). Idempotent.

    ``touch=False``: an unchanged customer is decided without a transaction and its link is not
    stamped here (a reconciliation stamps a chunk at once).
    """
    if not touch:
        unchanged = _in_step(customer=customer, contacts=contacts, policies=policies, snapshot=snapshot, carrier_map=carrier_map)
        if unchanged is not None:
            return unchanged
    return _customer_write(customer=customer, contacts=contacts, policies=policies, snapshot=snapshot,
                           carrier_map=carrier_map, touch=touch)


@transaction.atomic
def _customer_write(*, customer: dict, contacts: list[dict], policies: list[dict], snapshot: Snapshot,
                    carrier_map: dict, touch: bool) -> Outcome:
    customer_id = customer["CustomerId"]
    row = snapshot.row(CUSTOMER, customer_id)
    if row is not None and row.status == Status.RETIRED:
        return Outcome("ignored", reason=f"Customer {customer_id} was retired; it never creates a record again.")
    local = snapshot.record(row)
    commercial = mapping.is_commercial(customer)
    values = mapping.group_values(customer) if commercial else mapping.individual_values(customer)
    contact_values = mapping.contact_values(contacts) if commercial else None
    with writing_as(SYSTEM):
        if row is not None and local is None:  # the linked record was deleted here: the AMS record comes back
            ExternalId.objects.filter(pk=row.pk).delete()
            row = None
        if row is None:
            if commercial:
                local = employer_group_create(actor=None, account_number=f"AMS-{customer['CustomerNumber']}",
                                              contacts=contact_values, **values)
            else:
                local = individual_create(actor=None, data=values)
            row = external_id_link(obj=local, system=SYSTEM, object_type=CUSTOMER, external_id=customer_id)
            outcome = Outcome("created", local, sorted(values))
        else:
            changes = _diff(local, values)
            contacts_changed = commercial and _local_contacts(local) != contact_values
            if changes or contacts_changed:
                if commercial:
                    local = employer_group_update(actor=None, group=local, data=changes,
                                                  contacts=contact_values if contacts_changed else None)
                else:
                    local = individual_update(actor=None, individual=local, data=changes)
            outcome = Outcome("updated" if changes or contacts_changed else "unchanged", local,
                              sorted(changes) + (["contacts"] if contacts_changed else []))
        if commercial and contacts and (outcome.kind == "created" or "contacts" in outcome.changes):
            _link_contacts(local, contacts)
        if not commercial:
            _apply_policies(local, policies, snapshot, carrier_map, outcome)
    if outcome.kind == "unchanged" and outcome.changes:
        outcome.kind = "updated"
    reason = "; ".join(outcome.failures)
    outcome.reason = reason
    if not touch and outcome.kind == "unchanged" and not reason and row.last_sync_outcome == ExternalId.Outcome.SUCCEEDED:
        return outcome
    external_id_record_sync(row=row, ok=not outcome.failures, reason=reason, changed=outcome.repaired,
                            fingerprint=fingerprint([values, contact_values, policies]))
    return outcome


def _apply_policies(individual: Individual, policies: list[dict], snapshot: Snapshot, carrier_map: dict, outcome: Outcome) -> None:
    for far in policies:
        try:
            values = _policy_values(far, carrier_map, individual)
        except MappingError as exc:
            outcome.failures.append(f"Policy {far.get('PolicyNumber')} ({far.get('PolicyId')}): {exc}")
            continue
        prow = snapshot.row(POLICY, far["PolicyId"])
        policy = snapshot.record(prow) if prow is not None else None
        try:
            with transaction.atomic():
                if policy is None:
                    if prow is not None:  # deleted here; the AMS's copy comes back
                        ExternalId.objects.filter(pk=prow.pk).delete()
                    policy = policy_save(actor=None, policy=Policy(**values))
                    external_id_link(obj=policy, system=SYSTEM, object_type=POLICY, external_id=far["PolicyId"])
                    outcome.changes.append(f"policy {values['policy_number']} added")
                else:
                    changes = _diff(policy, values)
                    if changes:
                        for name, value in changes.items():
                            setattr(policy, name, value)
                        names = sorted(name.removesuffix("_id") for name in changes)
                        policy_save(actor=None, policy=policy, changed=names)
                        outcome.changes.append(f"policy {values['policy_number']}: {', '.join(names)}")
        except ValidationError as exc:
            outcome.failures.append(f"Policy {far.get('PolicyNumber')} ({far['PolicyId']}): {'; '.join(exc.messages)}")


def _retire(*, row: ExternalId | None, customer_id: str, survivor_row: ExternalId | None) -> Outcome:
    """The AMS merged ``customer_id`` into a survivor, or deleted it: retire the id, never delete locally."""
    if row is None:
        if survivor_row is None:
            return Outcome("ignored", reason=f"Customer {customer_id} does not exist in the AMS (deleted).")
        external_id_record_retired(system=SYSTEM, object_type=CUSTOMER, external_id=customer_id, survivor=survivor_row)
        return Outcome("ignored", reason=f"Customer {customer_id} was merged into {survivor_row.external_id} before we saw it.")
    if row.status == Status.RETIRED:
        return Outcome("ignored", reason=f"Customer {customer_id} was already retired.")
    old_local = row.record
    external_id_retire(row=row, survivor=survivor_row)
    if survivor_row is None:
        return Outcome("retired", old_local, reason=f"Customer {customer_id} was deleted in the AMS; its id is retired.")
    if old_local is not None and (survivor_row.content_type_id, survivor_row.object_id) != (row.content_type_id, old_local.pk):
        IdentityConflict.objects.get_or_create(
            content_type_id=survivor_row.content_type_id, object_id=survivor_row.object_id, other_object_id=old_local.pk,
            status=IdentityConflict.Status.OPEN,
            defaults={"kind": IdentityConflict.Kind.FAR_SIDE_DUPLICATE, "object_type": CUSTOMER, "external_id": customer_id,
                      "description": f"The AMS merged customer {customer_id} into {survivor_row.external_id}. "
                                     f"Both have a record here: merge them, or keep “{old_local}” as a separate record."},
        )
    return Outcome("retired", old_local, reason=f"Customer {customer_id} was merged into {survivor_row.external_id}.")


def customer_sync(*, client, customer_id: str, carrier_map: dict | None = None, depth: int = 0) -> Outcome:
    """Fetch one AMS customer as it is now (with contacts and policies) and apply it; a change is
    pushed to the CRM after commit.

    Raises ``IntegrationError`` when the AMS can't be read (the caller records the failure).
    """
    row = external_id_find(system=SYSTEM, object_type=CUSTOMER, external_id=customer_id)
    if row is not None and row.status == Status.RETIRED:
        return Outcome("ignored", row.record, reason=f"Customer {customer_id} was retired (merged or deleted); nothing created.")
    customer = client.customer_get(customer_id)
    if customer is None or customer["CustomerId"] != customer_id:
        survivor_row = None
        if customer is not None and depth < 3:
            customer_sync(client=client, customer_id=customer["CustomerId"], carrier_map=carrier_map, depth=depth + 1)
            survivor_row = external_id_find(system=SYSTEM, object_type=CUSTOMER, external_id=customer["CustomerId"])
        with transaction.atomic():
            return _retire(row=row, customer_id=customer_id, survivor_row=survivor_row)
    commercial = mapping.is_commercial(customer)
    contacts = client.contacts(customer_id) if commercial else []
    policies = [] if commercial else client.policies(customer_id)
    snapshot = Snapshot([customer_id], [p["PolicyId"] for p in policies])
    outcome = customer_apply(customer=customer, contacts=contacts, policies=policies, snapshot=snapshot,
                             carrier_map=carrier_map if carrier_map is not None else carriers())
    if outcome.repaired and outcome.record is not None:
        from .crm import crm_push_enqueue

        crm_push_enqueue(outcome.record)
    return outcome


def attempt_record(*, outcome: Outcome | None, external_id: str, error: str = "", notification=None,
                   reconciliation=None, direction=SyncAttempt.Direction.FROM_AMS) -> SyncAttempt:
    """One row in the sync queue: Successful, or Failed with the reason."""
    record = outcome.record if outcome else None
    failed = bool(error) or bool(outcome and outcome.failures)
    return SyncAttempt.objects.create(
        direction=direction, status=SyncAttempt.Status.FAILED if failed else SyncAttempt.Status.SUCCEEDED,
        external_id=external_id, notification=notification, reconciliation=reconciliation,
        content_type=ContentType.objects.get_for_model(record) if record is not None else None,
        object_id=record.pk if record is not None else None, record_repr=str(record)[:200] if record is not None else "",
        outcome=outcome.kind if outcome else "", changes=outcome.changes if outcome else [],
        reason=error or (outcome.reason if outcome else ""), finished_at=timezone.now(),
    )


def sync_error_message(exc: IntegrationError) -> str:
    return f"The agency management system could not be read: {exc.message}"
