"""Reconciliation: walk the AMS's customers and policies and repair whatever notifications missed.

The WSAPI has no "changed since" query and no list of all customers: the walk asks
``CustomerGetListByNamePrefix`` for every first character (letters, digits, punctuation), then each
customer's contacts or policies (a few calls at a time, the next chunk's while this one is applied),
and applies them in chunks (a few queries per chunk, one transaction per customer). Ids we hold
that the walk did not meet are fetched by id: a merged one answers its survivor, a deleted one
nothing; both are retired. After one run every difference is gone. Memory stays flat (chunks, two at
most in hand; no per-customer set).

A run is a row of work (``core.jobs``): one at a time (a database constraint on the active statuses),
claimed by one worker (a duplicate task claims nothing), its lease renewed by a heartbeat while it
walks; a run whose worker died is queued again by the sweep and walks again (every step is
idempotent), and the worker given up on stops at its next chunk (its try is no longer the row's).
An AMS that can't be reached puts the run back as retrying, by the one retry policy.
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
from core.jobs import ACTIVE, Status, job_claim, job_lease_kept, job_settle, job_update, jobs_sweep, on_commit_enqueue
from integrations.attempts import attempt_retry_later, attempts_due_now
from integrations.clients.ams360 import ams360_client
from integrations.http import IntegrationError, TransientError
from integrations.models import ExternalId
from integrations.registry import external_id_touch

from .. import mapping
from ..mapping import CUSTOMER, SYSTEM
from ..models import Reconciliation
from .crm import crm_push_enqueue_many
from .queue import SYSTEM_NAME, queued_until
from .sync import Snapshot, carriers, customer_apply, customer_sync, customers_create_many, sync_error_message, sync_history_record

# Every first character a customer's name can start with, as the AMS compares them (upper case).
PREFIXES = string.ascii_uppercase + string.digits + string.punctuation


class LeaseLost(Exception):
    """The sweep gave this run to another try: this worker stops walking."""


def _lease_seconds() -> float:
    return settings.AMS_RECONCILE_LEASE_SECONDS


def _enqueue(pk: int) -> None:
    from ..tasks import reconciliation_run_task

    on_commit_enqueue(reconciliation_run_task, [pk])


@transaction.atomic
def reconciliation_request(*, actor: User | None, trigger: str = Reconciliation.Trigger.PERSON) -> Reconciliation:
    """Queue a reconciliation, or return the active one (queued, running or retrying); audited.

    A run whose worker died is queued again first (the sweep), and one waiting to retry is brought
    forward to now: "Reconcile now" means now.
    """
    jobs_sweep(Reconciliation, enqueue=_enqueue, queued_lease_seconds=settings.AMS_QUEUED_LEASE_SECONDS)
    active = Reconciliation.objects.filter(status__in=ACTIVE).first()
    if active is not None:
        if active.status == Status.RETRYING and attempts_due_now(Reconciliation, [active.pk], lease_seconds=settings.AMS_QUEUED_LEASE_SECONDS):
            _enqueue(active.pk)
        return active
    try:
        with transaction.atomic():
            run = Reconciliation.objects.create(trigger=trigger, requested_by=actor if actor and actor.pk else None, lease_until=queued_until())
    except IntegrityError:  # another request won the race: join its run
        return Reconciliation.objects.get(status__in=ACTIVE)
    audit(actor=actor, action=AuditLog.Action.CREATE, obj=run, summary=f"Reconciliation requested ({run.get_trigger_display()})")
    _enqueue(run.pk)
    return run


def _bump(run: Reconciliation, **counts) -> None:
    """Add to the run's counts, while this worker still holds it; else stop the walk."""
    counts = {k: F(k) + v for k, v in counts.items() if v}
    if not job_update(run, lease_until=timezone.now() + timedelta(seconds=_lease_seconds()), **counts):
        raise LeaseLost


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
    crm_pushed = set(
        ExternalId.objects.filter(
            system=ExternalId.System.CRM,
            object_type="account",
            last_sync_outcome=ExternalId.Outcome.SUCCEEDED,
            content_type_id__in={o.content_type_id for o in snapshot.rows.values()},
            object_id__in=[r.object_id for r in snapshot.rows.values() if r.object_type == CUSTOMER],
        ).values_list("content_type_id", "object_id")
    )
    counts = dict.fromkeys(["created", "updated", "failed"], 0)
    # The customers never linked (the whole book, on a first reconciliation) are brought in set-based, in
    # one short transaction with their history and CRM pushes; the others one at a time, as a notification would.
    items = [(c, contacts.get(c["CustomerId"], []), policies.get(c["CustomerId"], [])) for c in customers]
    created, left = customers_create_many(customers=items, snapshot=snapshot, carrier_map=carrier_map, reconciliation=run)
    counts["created"] += len(created)
    to_push = []
    for n in left:
        customer, customer_contacts, customer_policies = items[n]
        cid = customer["CustomerId"]
        try:
            outcome = customer_apply(
                customer=customer,
                contacts=customer_contacts,
                policies=customer_policies,
                snapshot=snapshot,
                carrier_map=carrier_map,
                touch=False,
            )
        except (ValidationError, ApplicationError) as exc:
            counts["failed"] += 1
            message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else exc.message
            sync_history_record(outcome=None, external_id=cid, error=message, reconciliation=run)
            continue
        if outcome.kind in counts:
            counts[outcome.kind] += 1
        if outcome.failures:
            counts["failed"] += 1
        if outcome.repaired or outcome.failures:
            sync_history_record(outcome=outcome, external_id=cid, reconciliation=run)
        record = outcome.record
        if record is not None and (outcome.repaired or (ContentType.objects.get_for_model(record).pk, record.pk) not in crm_pushed):
            to_push.append(record)
    crm_push_enqueue_many(to_push)  # one INSERT, one enqueue for the chunk
    # Every link the walk met is stamped as synced now; those it did not meet are looked at afterwards.
    external_id_touch(system=SYSTEM, object_type=CUSTOMER, external_ids=[c["CustomerId"] for c in customers])
    _bump(run, customers_seen=len(customers), policies_seen=sum(len(p) for p in policies.values()), **counts)


def reconciliation_run(*, reconciliation_id: int, client=None, chunk_size: int = 100) -> Reconciliation:
    """Walk the AMS and repair every difference. A duplicate task claims nothing and returns the run."""
    from ..tasks import reconciliation_run_task

    run = job_claim(Reconciliation, reconciliation_id, lease_seconds=_lease_seconds())
    if run is None:
        return Reconciliation.objects.get(pk=reconciliation_id)
    if run.tries > 1:  # counts of what this try's walk saw (the repairs of a try that died stand)
        job_update(run, customers_seen=0, policies_seen=0)
    pool = ThreadPoolExecutor(max_workers=max(1, settings.AMS_RECONCILE_CONCURRENCY), thread_name_prefix="ams-reconcile")
    calls = 0
    try:
        with job_lease_kept(run, lease_seconds=_lease_seconds()):
            client = client or ams360_client()
            _walk(run, client, pool, chunk_size)
            calls = client.calls
    except LeaseLost:
        pool.shutdown(cancel_futures=True)
        return Reconciliation.objects.get(pk=run.pk)
    except TransientError as exc:
        pool.shutdown(cancel_futures=True)
        exc.message = sync_error_message(exc)
        attempt_retry_later(
            run,
            error=exc,
            system=SYSTEM_NAME,
            lease_seconds=_lease_seconds(),
            task=reconciliation_run_task,
            soap_calls=F("soap_calls") + getattr(client, "calls", 0),
        )
    except IntegrationError as exc:
        pool.shutdown(cancel_futures=True)
        job_settle(run, Status.FAILED, reason=sync_error_message(exc), soap_calls=F("soap_calls") + getattr(client, "calls", 0))
    else:
        pool.shutdown()
        job_settle(run, Status.SUCCEEDED, soap_calls=F("soap_calls") + calls)
    return Reconciliation.objects.get(pk=run.pk)


def _walk(run: Reconciliation, client, pool: ThreadPoolExecutor, chunk_size: int) -> None:
    carrier_map = carriers()
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
        Q(last_synced_at__isnull=True) | Q(last_synced_at__lt=run.started_at)
    )
    last_pk = 0
    while True:
        rows = list(stale.filter(pk__gt=last_pk).order_by("pk")[:chunk_size])
        if not rows:
            break
        last_pk = rows[-1].pk
        for row in rows:
            outcome = customer_sync(client=client, customer_id=row.external_id, carrier_map=carrier_map)
            if outcome.repaired:
                sync_history_record(outcome=outcome, external_id=row.external_id, reconciliation=run)
            _bump(run, retired=int(outcome.kind == "retired"), updated=int(outcome.kind == "updated"), created=int(outcome.kind == "created"))
