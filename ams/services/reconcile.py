"""Reconciliation: walk the AMS's customers and policies and repair whatever notifications missed.

The WSAPI has no "changed since" query and no list of all customers: the walk asks
``CustomerGetListByNamePrefix`` for every first character (letters, digits, punctuation), then each
customer's contacts or policies (a few calls at a time, the next chunk's while this one is applied),
and applies them in chunks (a few queries per chunk, one transaction per customer). Ids we hold
that the walk did not meet are fetched by id: a merged one answers its survivor, a deleted one
nothing; both are retired. After one run every difference is gone. One run at a time (a database
constraint); memory stays flat (chunks, two at most in hand; no per-customer set).
"""
import string
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import AuditLog, User
from accounts.services import audit
from core.errors import ApplicationError
from integrations.clients.ams360 import ams360_client
from integrations.http import IntegrationError
from integrations.models import ExternalId

from .. import mapping
from ..mapping import CUSTOMER, SYSTEM
from ..models import Reconciliation
from .crm import crm_push_enqueue
from .sync import Snapshot, attempt_record, carriers, customer_apply, customer_sync, sync_error_message

# Every first character a customer's name can start with, as the AMS compares them (upper case).
PREFIXES = string.ascii_uppercase + string.digits + string.punctuation
ACTIVE = [Reconciliation.Status.QUEUED, Reconciliation.Status.RUNNING]


def _lease() -> timezone.datetime:
    return timezone.now() + timedelta(seconds=settings.AMS_RECONCILE_LEASE_SECONDS)


@transaction.atomic
def reconciliation_request(*, actor: User | None, trigger: str = Reconciliation.Trigger.PERSON) -> Reconciliation:
    """Queue a reconciliation (or return the one queued or running); audited. A run whose worker died
    (lease passed) is marked failed first, so it never blocks the next."""
    Reconciliation.objects.filter(status__in=ACTIVE, lease_until__lt=timezone.now()).update(
        status=Reconciliation.Status.FAILED, finished_at=timezone.now(), reason="The worker stopped before the walk finished.")
    active = Reconciliation.objects.filter(status__in=ACTIVE).first()
    if active is not None:
        return active
    try:
        with transaction.atomic():
            run = Reconciliation.objects.create(trigger=trigger, requested_by=actor if actor and actor.pk else None, lease_until=_lease())
    except IntegrityError:  # another request won the race: join its run
        return Reconciliation.objects.get(status__in=ACTIVE)
    audit(actor=actor, action=AuditLog.Action.CREATE, obj=run, summary=f"Reconciliation requested ({run.get_trigger_display()})")
    from ..tasks import reconciliation_run_task

    transaction.on_commit(lambda: reconciliation_run_task.delay(run.pk))
    return run


def _bump(run: Reconciliation, **counts) -> None:
    counts = {k: v for k, v in counts.items() if v}
    Reconciliation.objects.filter(pk=run.pk).update(lease_until=_lease(), **{k: F(k) + v for k, v in counts.items()})


def _fetch(client, customer: dict) -> tuple[str, str, list]:
    if mapping.is_commercial(customer):
        return "contacts", customer["CustomerId"], client.contacts(customer["CustomerId"])
    return "policies", customer["CustomerId"], client.policies(customer["CustomerId"])


def _fetch_chunk(client, customers: list[dict], pool: ThreadPoolExecutor) -> tuple[list[dict], list[Future]]:
    """Start fetching a chunk's contacts and policies, a few calls at a time (the AMS answers each slowly)."""
    return customers, [pool.submit(_fetch, client, customer) for customer in customers]


def _apply_chunk(run: Reconciliation, chunk: tuple[list[dict], list[Future]], carrier_map: dict) -> None:
    customers, futures = chunk
    fetched = {"contacts": {}, "policies": {}}
    for future in futures:
        kind, customer_id, items = future.result()
        fetched[kind][customer_id] = items
    contacts, policies = fetched["contacts"], fetched["policies"]
    snapshot = Snapshot([c["CustomerId"] for c in customers], [p["PolicyId"] for ps in policies.values() for p in ps])
    crm_pushed = set(ExternalId.objects.filter(
        system=ExternalId.System.CRM, object_type="account", last_sync_outcome=ExternalId.Outcome.SUCCEEDED,
        content_type_id__in={o.content_type_id for o in snapshot.rows.values()},
        object_id__in=[r.object_id for r in snapshot.rows.values() if r.object_type == CUSTOMER],
    ).values_list("content_type_id", "object_id"))
    counts = dict.fromkeys(["created", "updated", "failed"], 0)
    for customer in customers:
        cid = customer["CustomerId"]
        try:
            outcome = customer_apply(customer=customer, contacts=contacts.get(cid, []), policies=policies.get(cid, []),
                                     snapshot=snapshot, carrier_map=carrier_map, touch=False)
        except (ValidationError, ApplicationError) as exc:
            counts["failed"] += 1
            message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else exc.message
            attempt_record(outcome=None, external_id=cid, error=message, reconciliation=run)
            continue
        if outcome.kind in counts:
            counts[outcome.kind] += 1
        if outcome.failures:
            counts["failed"] += 1
        if outcome.repaired or outcome.failures:
            attempt_record(outcome=outcome, external_id=cid, reconciliation=run)
        record = outcome.record
        if record is not None and (outcome.repaired or (ContentType.objects.get_for_model(record).pk, record.pk) not in crm_pushed):
            crm_push_enqueue(record)
    # Every link the walk met is stamped as synced now; those it did not meet are looked at afterwards.
    ExternalId.objects.filter(system=SYSTEM, object_type=CUSTOMER, external_id__in=[c["CustomerId"] for c in customers],
                              status=ExternalId.Status.ACTIVE, last_sync_outcome=ExternalId.Outcome.SUCCEEDED
                              ).update(last_synced_at=timezone.now())
    _bump(run, customers_seen=len(customers), policies_seen=sum(len(p) for p in policies.values()), **counts)


def reconciliation_run(*, reconciliation_id: int, client=None, chunk_size: int = 100) -> Reconciliation:
    """Walk the AMS and repair every difference. A duplicate task finds the run claimed and returns."""
    now = timezone.now()
    claimed = Reconciliation.objects.filter(pk=reconciliation_id).filter(
        Q(status=Reconciliation.Status.QUEUED) | Q(status=Reconciliation.Status.RUNNING, lease_until__lt=now)
    ).update(status=Reconciliation.Status.RUNNING, started_at=now, lease_until=_lease())
    run = Reconciliation.objects.get(pk=reconciliation_id)
    if not claimed:
        return run
    client = client or ams360_client()
    carrier_map = carriers()
    pool = ThreadPoolExecutor(max_workers=max(1, settings.AMS_RECONCILE_CONCURRENCY), thread_name_prefix="ams-reconcile")
    try:
        # Customers of several prefixes fill one chunk (most prefixes find few). The next chunk's contacts
        # and policies are fetched while this one is applied; two chunks at most are held.
        buffer: list[dict] = []
        fetching = None
        for prefix in [*PREFIXES, None]:
            buffer += client.customers_by_name_prefix(prefix) if prefix else []
            while len(buffer) >= chunk_size or (prefix is None and buffer):
                chunk = _fetch_chunk(client, buffer[:chunk_size], pool)
                buffer = buffer[chunk_size:]
                if fetching:
                    _apply_chunk(run, fetching, carrier_map)
                fetching = chunk
        if fetching:
            _apply_chunk(run, fetching, carrier_map)
        # Ids the walk did not meet: merged (answers the survivor) or deleted (answers nothing).
        stale = ExternalId.objects.filter(system=SYSTEM, object_type=CUSTOMER, status=ExternalId.Status.ACTIVE).filter(
            Q(last_synced_at__isnull=True) | Q(last_synced_at__lt=run.started_at))
        last_pk = 0
        while True:
            rows = list(stale.filter(pk__gt=last_pk).order_by("pk")[:chunk_size])
            if not rows:
                break
            last_pk = rows[-1].pk
            for row in rows:
                outcome = customer_sync(client=client, customer_id=row.external_id, carrier_map=carrier_map)
                if outcome.repaired:
                    attempt_record(outcome=outcome, external_id=row.external_id, reconciliation=run)
                _bump(run, retired=int(outcome.kind == "retired"), updated=int(outcome.kind == "updated"),
                      created=int(outcome.kind == "created"))
    except IntegrationError as exc:
        pool.shutdown(cancel_futures=True)
        Reconciliation.objects.filter(pk=run.pk).update(status=Reconciliation.Status.FAILED, finished_at=timezone.now(),
                                                        reason=sync_error_message(exc), soap_calls=client.calls)
    else:
        pool.shutdown()
        Reconciliation.objects.filter(pk=run.pk).update(status=Reconciliation.Status.SUCCEEDED, finished_at=timezone.now(),
                                                        soap_calls=client.calls)
    run.refresh_from_db()
    return run
