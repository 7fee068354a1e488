"""Push accounts, their contacts and policies to the CRM: one record each, upserted by our reference.

The reference is AgencyDesk's (``agencydesk:<kind>:<id>``), so a retried or repeated push updates the
same CRM record: no duplicates whatever the faults. The primary contact goes before the others; an
account's markers name every system it is linked with. Nothing is sent when nothing changed since
the last successful push (the values' fingerprint is kept on the CRM link).
"""
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from individuals.models import Individual
from integrations.clients.crm import crm_client
from integrations.http import IntegrationError
from integrations.models import ExternalId
from integrations.registry import external_id_link, external_id_of, external_id_record_sync
from plans.models import EmployerGroup

from ..mapping import CONTACT
from ..models import SyncAttempt

CRM = ExternalId.System.CRM
MARKERS = {(ExternalId.System.AMS, "customer"): "AMS synced", (ExternalId.System.BENEFITS_ADMIN, "account"): "Benefits synced"}


def crm_reference(kind: str, key) -> str:
    return f"agencydesk:{kind}:{key}"


def crm_markers(obj) -> list[str]:
    rows = ExternalId.objects.filter(content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk,
                                     status=ExternalId.Status.ACTIVE).values_list("system", "object_type")
    return sorted({MARKERS[r] for r in rows if r in MARKERS})


def _records(obj) -> list[tuple[str, dict]]:
    """(reference, record) for the account, then its contacts (primary first), then its policies."""
    account_ref = crm_reference(obj._meta.model_name, obj.pk)
    if isinstance(obj, Individual):
        account = {"kind": "account", "name": str(obj), "markers": crm_markers(obj),
                   "fields": {"type": "Individual", "email": obj.email, "phone": obj.home_phone or obj.cell_phone,
                              "city": obj.city, "state": obj.state, "status": obj.get_record_status_display()}}
        children = [(crm_reference("policy", p.pk), {
            "kind": "policy", "name": f"{p.get_coverage_type_display()} {p.policy_number}".strip(), "parent_reference": account_ref,
            "fields": {"carrier": p.carrier.name, "status": p.get_status_display(), "policy_number": p.policy_number,
                       "effective_date": str(p.effective_date or ""), "renewal_date": str(p.renewal_date or "")}})
            for p in obj.policies.select_related("carrier").order_by("pk")]
        return [(account_ref, account), *children]
    account = {"kind": "account", "name": obj.name, "markers": crm_markers(obj),
               "fields": {"type": "Employer group", "account_number": obj.account_number, "dba": obj.dba,
                          "status": obj.get_status_display()}}
    contact_ids = dict(ExternalId.objects.filter(system=ExternalId.System.AMS, object_type=CONTACT, status=ExternalId.Status.ACTIVE,
                                                 content_type=ContentType.objects.get_for_model(obj.contacts.model))
                       .values_list("object_id", "external_id"))
    contacts = sorted(obj.contacts.all(), key=lambda c: (not c.is_primary, c.pk))
    children = [(crm_reference("contact", contact_ids.get(c.pk, f"local-{c.pk}")), {
        "kind": "contact", "name": c.name, "parent_reference": account_ref, "is_primary": c.is_primary,
        "fields": {"title": c.title, "email": c.email, "phone": c.phone}}) for c in contacts]
    return [(account_ref, account), *children]


def crm_push(*, obj, client=None) -> SyncAttempt | None:
    """Upsert ``obj`` and its contacts and policies in the CRM; None when nothing changed since the last push."""
    from .sync import fingerprint

    records = _records(obj)
    values_fp = fingerprint(records)
    row = external_id_of(obj, system=CRM, object_type="account")
    if row is not None and row.fingerprint == values_fp and row.last_sync_outcome == ExternalId.Outcome.SUCCEEDED:
        return None
    client = client or crm_client()
    attempt = SyncAttempt(direction=SyncAttempt.Direction.TO_CRM, content_type=ContentType.objects.get_for_model(obj),
                          object_id=obj.pk, record_repr=str(obj)[:200], external_id=records[0][0])
    try:
        answer = client.upsert(records[0][0], records[0][1])
        for reference, record in records[1:]:
            client.upsert(reference, record)
    except IntegrationError as exc:
        attempt.status, attempt.reason = SyncAttempt.Status.FAILED, f"The CRM refused or could not be reached: {exc.message}"
        attempt.finished_at = timezone.now()
        if row is not None:
            external_id_record_sync(row=row, ok=False, reason=attempt.reason)
        attempt.save()
        return attempt
    with transaction.atomic():
        if row is None:
            row = external_id_link(obj=obj, system=CRM, object_type="account", external_id=str(answer["id"]))
        external_id_record_sync(row=row, ok=True, changed=True, fingerprint=values_fp)
        attempt.status, attempt.outcome = SyncAttempt.Status.SUCCEEDED, "upserted"
        attempt.changes, attempt.finished_at = [f"{len(records)} record(s) upserted"], timezone.now()
        attempt.save()
    return attempt


def crm_forget(*, obj, client=None) -> None:
    """Remove ``obj``'s CRM record (merged into another here) and its link. Raises ``ApplicationError``
    when the CRM can't be reached: the caller writes nothing then."""
    from core.errors import ApplicationError

    row = external_id_of(obj, system=CRM, object_type="account")
    if row is None:
        return
    try:
        (client or crm_client()).delete(crm_reference(obj._meta.model_name, obj.pk))
    except IntegrationError as exc:
        raise ApplicationError(f"The CRM record of “{obj}” could not be removed: {exc.message}") from exc
    ExternalId.objects.filter(pk=row.pk).delete()


def crm_push_enqueue(obj) -> None:
    """Queue a CRM push of ``obj`` after the current transaction commits."""
    from ..tasks import crm_push_task

    content_type_id, pk = ContentType.objects.get_for_model(obj).pk, obj.pk
    transaction.on_commit(lambda: crm_push_task.delay(content_type_id, pk))


def crm_push_by_id(*, content_type_id: int, object_id: int) -> SyncAttempt | None:
    model = ContentType.objects.get_for_id(content_type_id).model_class()
    if model not in (Individual, EmployerGroup):
        return None
    obj = model._default_manager.filter(pk=object_id).first()
    return crm_push(obj=obj) if obj is not None else None
