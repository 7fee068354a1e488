"""Push accounts, their contacts and policies to the CRM: one record each, upserted by our reference.

The reference is AgencyDesk's (``agencydesk:<kind>:<id>``), so a retried or repeated push updates the
same CRM record: no duplicates whatever the faults. The primary contact goes before the others; an
account's markers name every system it is linked with. Nothing is sent when nothing changed since
the last successful push (the values' fingerprint is kept on the CRM link).
"""

from django.contrib.contenttypes.models import ContentType

from individuals.models import Individual
from integrations.attempts import Outcome as AttemptOutcome
from integrations.attempts import attempt_run
from integrations.clients.crm import crm_client
from integrations.http import IntegrationError
from integrations.models import ExternalId
from integrations.registry import external_id_link, external_id_of, external_id_record_sync, external_id_unlink
from plans.models import EmployerGroup

from ..mapping import CONTACT
from ..models import SyncAttempt
from .queue import attempt_lease, sync_attempt_queue, sync_attempt_queue_many, with_history

CRM = ExternalId.System.CRM
MARKERS = {(ExternalId.System.AMS, "customer"): "AMS synced", (ExternalId.System.BENEFITS_ADMIN, "account"): "Benefits synced"}


def crm_reference(kind: str, key) -> str:
    return f"agencydesk:{kind}:{key}"


def crm_markers(obj) -> list[str]:
    rows = ExternalId.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk, status=ExternalId.Status.ACTIVE
    ).values_list("system", "object_type")
    return sorted({MARKERS[r] for r in rows if r in MARKERS})


def _records(obj) -> list[tuple[str, dict]]:
    """(reference, record) for the account, then its contacts (primary first), then its policies."""
    account_ref = crm_reference(obj._meta.model_name, obj.pk)
    if isinstance(obj, Individual):
        account = {
            "kind": "account",
            "name": str(obj),
            "markers": crm_markers(obj),
            "fields": {
                "type": "Individual",
                "email": obj.email,
                "phone": obj.home_phone or obj.cell_phone,
                "city": obj.city,
                "state": obj.state,
                "status": obj.get_record_status_display(),
            },
        }
        children = [
            (
                crm_reference("policy", p.pk),
                {
                    "kind": "policy",
                    "name": f"{p.get_coverage_type_display()} {p.policy_number}".strip(),
                    "parent_reference": account_ref,
                    "fields": {
                        "carrier": p.carrier.name,
                        "status": p.get_status_display(),
                        "policy_number": p.policy_number,
                        "effective_date": str(p.effective_date or ""),
                        "renewal_date": str(p.renewal_date or ""),
                    },
                },
            )
            for p in obj.policies.select_related("carrier").order_by("pk")
        ]
        return [(account_ref, account), *children]
    account = {
        "kind": "account",
        "name": obj.name,
        "markers": crm_markers(obj),
        "fields": {"type": "Employer group", "account_number": obj.account_number, "dba": obj.dba, "status": obj.get_status_display()},
    }
    contact_ids = dict(
        ExternalId.objects.filter(
            system=ExternalId.System.AMS,
            object_type=CONTACT,
            status=ExternalId.Status.ACTIVE,
            content_type=ContentType.objects.get_for_model(obj.contacts.model),
        ).values_list("object_id", "external_id")
    )
    contacts = sorted(obj.contacts.all(), key=lambda c: (not c.is_primary, c.pk))
    children = [
        (
            crm_reference("contact", contact_ids.get(c.pk, f"local-{c.pk}")),
            {
                "kind": "contact",
                "name": c.name,
                "parent_reference": account_ref,
                "is_primary": c.is_primary,
                "fields": {"title": c.title, "email": c.email, "phone": c.phone},
            },
        )
        for c in contacts
    ]
    return [(account_ref, account), *children]


def crm_push_enqueue(obj) -> SyncAttempt:
    """Queue a CRM push of ``obj`` (intent, in the caller's transaction); it runs after commit.
    A push of ``obj`` still queued covers this one (it reads the record as it is when it runs)."""
    from ..tasks import crm_push_task

    return sync_attempt_queue(
        direction=SyncAttempt.Direction.TO_CRM, task=crm_push_task, obj=obj, external_id=crm_reference(obj._meta.model_name, obj.pk)
    )


def crm_push_enqueue_many(objs: list) -> list[int]:
    """``crm_push_enqueue`` for many records at once (a reconciliation's chunk): one look-up of the pushes
    still queued, one INSERT, one enqueue after commit. Returns the new attempts' ids."""
    from ..tasks import crm_push_task

    return sync_attempt_queue_many(
        direction=SyncAttempt.Direction.TO_CRM,
        task=crm_push_task,
        objs=objs,
        external_ids=[crm_reference(obj._meta.model_name, obj.pk) for obj in objs],
    )


def crm_push_enqueue_by_id(*, content_type_id: int, object_id: int) -> SyncAttempt | None:
    """Queue a CRM push of an individual or employer group by id; None when it is not one (or is gone)."""
    model = ContentType.objects.get_for_id(content_type_id).model_class()
    obj = model._default_manager.filter(pk=object_id).first() if model in (Individual, EmployerGroup) else None
    return crm_push_enqueue(obj) if obj is not None else None


def crm_remove_enqueue(obj) -> SyncAttempt | None:
    """``obj`` is merged away here: forget its CRM link now, and queue the removal of its CRM record (and
    the records under it) after commit. None when it was never pushed."""
    from ..tasks import crm_push_task

    row = external_id_of(obj, system=CRM, object_type="account")
    if row is None:
        return None
    external_id_unlink(row=row)
    return sync_attempt_queue(
        direction=SyncAttempt.Direction.TO_CRM,
        operation=SyncAttempt.Operation.REMOVE,
        task=crm_push_task,
        external_id=crm_reference(obj._meta.model_name, obj.pk),
        record_repr=str(obj),
    )


def _push(attempt: SyncAttempt, client) -> AttemptOutcome:
    """Upsert the record and its children by our references (repeatable: a retry after a lost answer or
    a dead worker updates the same CRM records); the link is recorded when the attempt settles."""
    from .sync import fingerprint

    model = attempt.content_type.model_class() if attempt.content_type_id else None
    obj = model._default_manager.filter(pk=attempt.object_id).first() if model in (Individual, EmployerGroup) else None
    if obj is None:
        return AttemptOutcome(reason="The record was deleted here before it was pushed; nothing was sent.", fields={"outcome": "ignored"})
    records = _records(obj)
    values_fp = fingerprint(records)
    row = external_id_of(obj, system=CRM, object_type="account")
    if row is not None and row.fingerprint == values_fp and row.last_sync_outcome == ExternalId.Outcome.SUCCEEDED:
        return AttemptOutcome(reason="Nothing changed since the last push; nothing was sent.", fields={"outcome": "unchanged"})
    answer = client.upsert(records[0][0], records[0][1])
    for reference, record in records[1:]:
        client.upsert(reference, record)

    def record_link(settled: SyncAttempt) -> None:
        link = external_id_of(obj, system=CRM, object_type="account") or external_id_link(
            obj=obj, system=CRM, object_type="account", external_id=str(answer["id"])
        )
        external_id_record_sync(row=link, ok=True, changed=True, fingerprint=values_fp)

    return AttemptOutcome(
        reason=f"{len(records)} record(s) upserted in the CRM.",
        record=record_link,
        fields={"outcome": "upserted", "changes": [f"{len(records)} record(s) upserted"]},
    )


def crm_push_run(*, attempt_id: int, client=None) -> SyncAttempt | None:
    """Run one queued CRM push or removal: claim it, call the CRM outside any transaction, record the
    outcome in a new short transaction. A transient failure is retried by the one retry policy; a
    refusal fails it with the CRM's message. None when it was not claimable."""
    from ..tasks import crm_push_task

    used = {}

    def work(attempt: SyncAttempt) -> AttemptOutcome:
        used["client"] = client or crm_client()
        if attempt.operation == SyncAttempt.Operation.REMOVE:
            used["client"].delete(attempt.external_id)  # one already gone is fine
            outcome = AttemptOutcome(reason="Removed from the CRM (merged into another record here).", fields={"outcome": "removed"})
        else:
            outcome = _push(attempt, used["client"])
        outcome.reason = with_history(attempt.tries, attempt.reason, outcome.reason)
        return outcome

    def refused(attempt: SyncAttempt, exc: IntegrationError) -> AttemptOutcome:
        reason = with_history(attempt.tries, attempt.reason, f"The CRM refused it: {exc.message}")

        def note(settled: SyncAttempt) -> None:
            model = settled.content_type.model_class() if settled.content_type_id else None
            obj = model._default_manager.filter(pk=settled.object_id).first() if model else None
            row = external_id_of(obj, system=CRM, object_type="account") if obj is not None else None
            if row is not None:
                external_id_record_sync(row=row, ok=False, reason=reason)

        return AttemptOutcome(SyncAttempt.Status.FAILED, reason, record=note)

    return attempt_run(
        SyncAttempt.objects.select_related("content_type"),
        attempt_id,
        lease_seconds=attempt_lease(),
        work=work,
        task=crm_push_task,
        system="CRM",
        refusal=refused,
        calls=lambda: used["client"].calls if "client" in used else 0,
    )
