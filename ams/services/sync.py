"""Bring AMS customers (with their contacts and policies) into AgencyDesk, by id only.

A personal customer is an individual, a commercial one an employer group; a personal customer's
policies are the individual's policies; a commercial customer's contacts are the group's contacts.
The AMS owns the mapped fields: we copy them as they are now, whatever order notifications came in.
Merged and deleted customers retire their id (pointing at the survivor); a retired id never
creates a record again.

Reading there and writing here are two steps: ``customer_fetch`` makes every SOAP call (outside any
transaction), ``customer_record`` writes here (short transactions, no call). A person's link runs as
an attempt (``customer_sync_request`` -> ``customer_sync_run``): the local writes are made in the
transaction that settles the attempt, only while this worker still holds it, so a worker the sweep
gave up on can't write an older copy over a newer one.
"""

import hashlib
import json
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone

from core.errors import ApplicationError
from individuals.models import Individual, Policy
from individuals.services import individual_create, individual_prepare, individual_update, individuals_create_many, policy_save
from integrations.attempts import Outcome as AttemptOutcome
from integrations.attempts import attempt_run
from integrations.clients.ams360 import ams360_client
from integrations.http import IntegrationError
from integrations.models import ExternalId
from integrations.ownership import writing_as
from integrations.registry import (
    external_id_find,
    external_id_link,
    external_id_link_many,
    external_id_record_retired,
    external_id_record_sync,
    external_id_repoint,
    external_id_retire,
    external_id_unlink,
)
from plans.models import Carrier, EmployerGroup, EmployerGroupContact
from plans.services import (
    employer_group_create,
    employer_group_numbers_taken,
    employer_group_prepare,
    employer_group_update,
    employer_groups_create_many,
)

from .. import mapping
from ..mapping import CONTACT, CUSTOMER, POLICY, SYSTEM, MappingError
from ..models import IdentityConflict, SyncAttempt
from .queue import SYSTEM_NAME, attempt_lease, sync_attempt_queue, with_history

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


def customer_apply(
    *, customer: dict, contacts: list[dict], policies: list[dict], snapshot: Snapshot, carrier_map: dict, touch: bool = True
) -> Outcome:
    """Make AgencyDesk's copy of one AMS customer equal to ``customer`` (as fetched now). Idempotent.

    ``touch=False``: an unchanged customer is decided without a transaction and its link is not
    stamped here (a reconciliation stamps a chunk at once).
    """
    if not touch:
        unchanged = _in_step(customer=customer, contacts=contacts, policies=policies, snapshot=snapshot, carrier_map=carrier_map)
        if unchanged is not None:
            return unchanged
    return _customer_write(customer=customer, contacts=contacts, policies=policies, snapshot=snapshot, carrier_map=carrier_map, touch=touch)


@transaction.atomic
def _customer_write(*, customer: dict, contacts: list[dict], policies: list[dict], snapshot: Snapshot, carrier_map: dict, touch: bool) -> Outcome:
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
            external_id_unlink(row=row)
            row = None
        if row is None:
            if commercial:
                local = employer_group_create(actor=None, account_number=f"AMS-{customer['CustomerNumber']}", contacts=contact_values, **values)
            else:
                local = individual_create(actor=None, data=values)
            row = external_id_link(obj=local, system=SYSTEM, object_type=CUSTOMER, external_id=customer_id)
            outcome = Outcome("created", local, sorted(values))
        else:
            changes = _diff(local, values)
            contacts_changed = commercial and _local_contacts(local) != contact_values
            if changes or contacts_changed:
                if commercial:
                    local = employer_group_update(actor=None, group=local, data=changes, contacts=contact_values if contacts_changed else None)
                else:
                    local = individual_update(actor=None, individual=local, data=changes)
            outcome = Outcome(
                "updated" if changes or contacts_changed else "unchanged", local, sorted(changes) + (["contacts"] if contacts_changed else [])
            )
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
    external_id_record_sync(
        row=row, ok=not outcome.failures, reason=reason, changed=outcome.repaired, fingerprint=fingerprint([values, contact_values, policies])
    )
    return outcome


@dataclass
class _New:
    """A customer AgencyDesk has never linked, built and validated for ``customers_create_many``."""

    customer: dict
    record: object
    values: dict
    contact_values: list | None
    policies: list  # (AMS policy, Policy) pairs
    contacts: list  # (EmployerGroupContact, AMS contact) pairs, in AMS SortOrder
    raw_policies: list
    index: int = 0


def _contacts_ordered(contacts: list[dict]) -> list[dict]:
    return sorted(contacts, key=lambda c: (c.get("SortOrder") if c.get("SortOrder") is not None else 999, c.get("CustomerContactId") or ""))


def _new_customer(customer: dict, contacts: list[dict], policies: list[dict], carrier_map: dict) -> _New | None:
    """``customer`` built as ``_customer_write`` would create it, validated; None when anything is unusual
    (a value that does not validate or map, an id missing): that customer takes the one-at-a-time way,
    which gives the same record or the same failure as before."""
    try:
        if mapping.is_commercial(customer):
            values, contact_values = mapping.group_values(customer), mapping.contact_values(contacts)
            group, local = employer_group_prepare(account_number=f"AMS-{customer['CustomerNumber']}", contacts=contact_values, **values)
            ordered = _contacts_ordered(contacts)
            if any(not str(c.get("CustomerContactId") or "").strip() for c in ordered):
                return None
            return _New(customer, group, values, contact_values, [], list(zip(local, ordered, strict=True)), policies)
        values = mapping.individual_values(customer)
        individual = individual_prepare(data=values)
        built = []
        for far in policies:
            policy = Policy(**mapping.policy_values(far, carrier_map))
            policy.full_clean(exclude=["individual", "carrier"], validate_constraints=False)  # the carrier: from carrier_map
            if not str(far.get("PolicyId") or "").strip() or (policy.premium is not None and policy.premium < 0):
                return None
            policy.individual = individual
            built.append((far, policy))
        return _New(customer, individual, values, None, built, [], policies)
    except (ValidationError, MappingError):
        return None


def customers_create_many(
    *, customers: list[tuple[dict, list, list]], snapshot: Snapshot, carrier_map: dict, reconciliation=None
) -> tuple[list[Outcome], list[int]]:
    """Bring in at once the customers of a chunk AgencyDesk has never linked (an agency's first
    reconciliation): ``customers`` are (customer, contacts, policies) as fetched now.

    Set-based, as a census import: one look-up of the chunk's contact links and account numbers, then
    one short transaction with a few INSERTs (records, contacts, policies, links, one audit row per
    record, the sync queue's rows, the CRM pushes). The records, links, audit rows and history are
    those ``customer_apply`` writes one at a time. Returns the outcomes of those created, and the
    indexes (in ``customers``) of the ones left for ``customer_apply``: linked already, unusual (see
    ``_new_customer``), or clashing with another in the chunk or a link made meanwhile.
    """
    from .crm import crm_push_enqueue_many

    new: list[_New] = []
    left: list[int] = []
    seen_ids: set[str] = set()
    for n, (customer, contacts, policies) in enumerate(customers):
        built = None
        ids = [customer["CustomerId"], *(p.get("PolicyId") for p in policies), *(c.get("CustomerContactId") for c in contacts)]
        linked = snapshot.row(CUSTOMER, customer["CustomerId"]) is not None or any(snapshot.row(POLICY, p.get("PolicyId")) for p in policies)
        if not linked and not seen_ids.intersection(ids):
            built = _new_customer(customer, contacts, policies, carrier_map)
        seen_ids.update(ids)
        if built is None:
            left.append(n)
        else:
            built.index = n
            new.append(built)
    if not new:
        return [], left
    # One look-up each: contact ids linked already, account numbers taken (those go one at a time).
    contact_ids = [far["CustomerContactId"] for item in new for _, far in item.contacts]
    contacts_linked = set(
        ExternalId.objects.filter(system=SYSTEM, object_type=CONTACT, external_id__in=contact_ids).values_list("external_id", flat=True)
        if contact_ids
        else []
    )
    numbers = [item.record.account_number for item in new if item.contact_values is not None]
    taken = employer_group_numbers_taken(numbers) if numbers else set()
    keep = []
    for item in new:
        clash = item.contact_values is not None and item.record.account_number in taken
        if clash or any(far["CustomerContactId"] in contacts_linked for _, far in item.contacts):
            left.append(item.index)
        else:
            keep.append(item)
    people = [item for item in keep if item.contact_values is None]
    groups = [item for item in keep if item.contact_values is not None]
    outcomes = []
    for item in keep:
        changes = sorted(item.values) + [f"policy {policy.policy_number} added" for _, policy in item.policies]
        outcomes.append(Outcome("created", item.record, changes))
    try:
        with transaction.atomic(), writing_as(SYSTEM):
            individuals_create_many(actor=None, individuals=[i.record for i in people], policies=[p for i in people for _, p in i.policies])
            if groups:
                employer_groups_create_many(actor=None, groups=[(i.record, [local for local, _ in i.contacts]) for i in groups])
            external_id_link_many(
                system=SYSTEM,
                object_type=CUSTOMER,
                links=[(i.record, i.customer["CustomerId"]) for i in keep],
                fingerprints=[fingerprint([i.values, i.contact_values, i.raw_policies]) for i in keep],
            )
            external_id_link_many(system=SYSTEM, object_type=POLICY, links=[(p, far["PolicyId"]) for i in people for far, p in i.policies])
            external_id_link_many(
                system=SYSTEM,
                object_type=CONTACT,
                links=[(local, far["CustomerContactId"]) for i in groups for local, far in i.contacts],
            )
            history = [(i.customer["CustomerId"], o) for i, o in zip(keep, outcomes, strict=True)]
            sync_history_record_many(outcomes=history, reconciliation=reconciliation)
            crm_push_enqueue_many([i.record for i in keep])
    except DatabaseError:  # a link or an account number taken meanwhile: every one of them goes one at a time
        return [], list(range(len(customers)))
    return outcomes, sorted(left)


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
                        external_id_unlink(row=prow)
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
            content_type_id=survivor_row.content_type_id,
            object_id=survivor_row.object_id,
            other_object_id=old_local.pk,
            status=IdentityConflict.Status.OPEN,
            defaults={
                "kind": IdentityConflict.Kind.FAR_SIDE_DUPLICATE,
                "object_type": CUSTOMER,
                "external_id": customer_id,
                "description": f"The AMS merged customer {customer_id} into {survivor_row.external_id}. "
                f"Both have a record here: merge them, or keep “{old_local}” as a separate record.",
            },
        )
    return Outcome("retired", old_local, reason=f"Customer {customer_id} was merged into {survivor_row.external_id}.")


@dataclass
class Fetched:
    """One AMS customer as read now (with its contacts or policies); for a merged id, the survivor's read."""

    customer_id: str
    customer: dict | None = None
    contacts: list = field(default_factory=list)
    policies: list = field(default_factory=list)
    survivor: "Fetched | None" = None
    retired: bool = False  # retired here before the read: nothing was asked


def customer_fetch(*, client, customer_id: str, depth: int = 0) -> Fetched:
    """Read one AMS customer as it is now: every SOAP call of a sync, and no write.

    Raises ``IntegrationError`` when the AMS can't be read.
    """
    row = external_id_find(system=SYSTEM, object_type=CUSTOMER, external_id=customer_id)
    if row is not None and row.status == Status.RETIRED:
        return Fetched(customer_id, retired=True)
    customer = client.customer_get(customer_id)
    if customer is None or customer["CustomerId"] != customer_id:
        survivor = None
        if customer is not None and depth < 3:
            survivor = customer_fetch(client=client, customer_id=customer["CustomerId"], depth=depth + 1)
        return Fetched(customer_id, survivor=survivor)
    commercial = mapping.is_commercial(customer)
    contacts = client.contacts(customer_id) if commercial else []
    policies = [] if commercial else client.policies(customer_id)
    return Fetched(customer_id, customer, contacts, policies)


def customer_record(*, fetched: Fetched, carrier_map: dict | None = None) -> Outcome:
    """Make AgencyDesk's copy of a customer equal to what ``customer_fetch`` read; a change is pushed to
    the CRM after commit. No outside call. Idempotent."""
    customer_id = fetched.customer_id
    row = external_id_find(system=SYSTEM, object_type=CUSTOMER, external_id=customer_id)
    if fetched.retired or (row is not None and row.status == Status.RETIRED):
        return Outcome("ignored", row.record if row else None, reason=f"Customer {customer_id} was retired (merged or deleted); nothing created.")
    if fetched.customer is None:
        survivor_row = None
        if fetched.survivor is not None:
            customer_record(fetched=fetched.survivor, carrier_map=carrier_map)
            survivor_row = external_id_find(system=SYSTEM, object_type=CUSTOMER, external_id=fetched.survivor.customer_id)
        with transaction.atomic():
            return _retire(row=row, customer_id=customer_id, survivor_row=survivor_row)
    snapshot = Snapshot([customer_id], [p["PolicyId"] for p in fetched.policies])
    outcome = customer_apply(
        customer=fetched.customer,
        contacts=fetched.contacts,
        policies=fetched.policies,
        snapshot=snapshot,
        carrier_map=carrier_map if carrier_map is not None else carriers(),
    )
    if outcome.repaired and outcome.record is not None:
        from .crm import crm_push_enqueue

        crm_push_enqueue(outcome.record)
    return outcome


def customer_sync(*, client, customer_id: str, carrier_map: dict | None = None) -> Outcome:
    """Fetch one AMS customer as it is now (with contacts and policies), then apply it here; a change is
    pushed to the CRM after commit. Call it outside a transaction (it calls the AMS).

    Raises ``IntegrationError`` when the AMS can't be read (the caller records the failure).
    """
    return customer_record(fetched=customer_fetch(client=client, customer_id=customer_id), carrier_map=carrier_map)


def customer_sync_request(*, customer_id: str, actor=None) -> SyncAttempt:
    """Queue a sync of one AMS customer (intent, in the caller's transaction), run after commit."""
    from ..tasks import customer_sync_task

    return sync_attempt_queue(
        direction=SyncAttempt.Direction.FROM_AMS,
        task=customer_sync_task,
        external_id=customer_id,
        record_repr=f"AMS customer {customer_id}",
        requested_by=actor,
    )


OUTCOME_WORDS = {
    "created": "Brought in as a new record.",
    "updated": "Updated here",
    "unchanged": "Already in step; nothing changed.",
    "retired": "",
    "ignored": "",
}


def outcome_sentence(outcome: Outcome) -> str:
    """What one sync did, in a sentence (the attempt's reason)."""
    if outcome.failures or outcome.kind in ("retired", "ignored"):
        return outcome.reason
    if outcome.kind == "updated":
        return f"Updated here: {', '.join(outcome.changes)}." if outcome.changes else "Updated here."
    return OUTCOME_WORDS.get(outcome.kind, "")


def outcome_fields(outcome: Outcome | None) -> dict:
    """The sync queue's columns for ``outcome``: the record, what it did, what changed."""
    record = outcome.record if outcome else None
    return {
        "content_type": ContentType.objects.get_for_model(record) if record is not None else None,
        "object_id": record.pk if record is not None else None,
        "record_repr": str(record)[:200] if record is not None else "",
        "outcome": outcome.kind if outcome else "",
        "changes": outcome.changes if outcome else [],
    }


def customer_sync_run(*, attempt_id: int, client=None) -> SyncAttempt | None:
    """Run one queued customer sync: claim it, read the AMS outside any transaction, then write here in
    the transaction that settles it (only while still held). None when it was not claimable."""
    from ..tasks import customer_sync_task

    used = {}

    def work(attempt: SyncAttempt) -> AttemptOutcome:
        used["client"] = client or ams360_client()
        fetched = customer_fetch(client=used["client"], customer_id=attempt.external_id)
        tries, earlier = attempt.tries, attempt.reason

        def record(settled: SyncAttempt) -> None:
            try:
                with transaction.atomic():
                    outcome = customer_record(fetched=fetched)
            except (ValidationError, ApplicationError) as exc:
                message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else exc.message
                fields = {"status": SyncAttempt.Status.FAILED, "reason": with_history(tries, earlier, message)}
            else:
                fields = {**outcome_fields(outcome), "reason": with_history(tries, earlier, outcome_sentence(outcome))}
                if outcome.failures:
                    fields["status"] = SyncAttempt.Status.FAILED
            SyncAttempt.objects.filter(pk=settled.pk).update(**fields)
            for name, value in fields.items():
                setattr(settled, name, value)

        return AttemptOutcome(record=record)

    def refused(attempt: SyncAttempt, exc: IntegrationError) -> AttemptOutcome:
        return AttemptOutcome(SyncAttempt.Status.FAILED, with_history(attempt.tries, attempt.reason, sync_error_message(exc)))

    return attempt_run(
        SyncAttempt,
        attempt_id,
        lease_seconds=attempt_lease(),
        work=work,
        task=customer_sync_task,
        system=SYSTEM_NAME,
        refusal=refused,
        calls=lambda: used["client"].calls if "client" in used else 0,
    )


def _history_row(*, outcome: Outcome | None, external_id: str, error: str = "", notification=None, reconciliation=None) -> SyncAttempt:
    failed = bool(error) or bool(outcome and outcome.failures)
    now = timezone.now()
    return SyncAttempt(
        direction=SyncAttempt.Direction.FROM_AMS,
        status=SyncAttempt.Status.FAILED if failed else SyncAttempt.Status.SUCCEEDED,
        external_id=external_id,
        notification=notification,
        reconciliation=reconciliation,
        tries=1,
        started_at=now,
        finished_at=now,
        reason=error or (outcome_sentence(outcome) if outcome else ""),
        **outcome_fields(outcome),
    )


def sync_history_record(*, outcome: Outcome | None, external_id: str, error: str = "", notification=None, reconciliation=None) -> SyncAttempt:
    """A sync a notification or a reconciliation made, recorded in the sync queue as it finished:
    Successful, or Failed with the reason."""
    row = _history_row(outcome=outcome, external_id=external_id, error=error, notification=notification, reconciliation=reconciliation)
    row.save(force_insert=True)
    return row


def sync_history_record_many(*, outcomes: list[tuple[str, Outcome]], reconciliation=None) -> list[SyncAttempt]:
    """``sync_history_record`` for many (customer id, outcome) pairs of one reconciliation, in one INSERT."""
    rows = [_history_row(outcome=outcome, external_id=external_id, reconciliation=reconciliation) for external_id, outcome in outcomes]
    return SyncAttempt.objects.bulk_create(rows, batch_size=1000)


def sync_error_message(exc: IntegrationError) -> str:
    return f"The agency management system could not be read: {exc.message}"
