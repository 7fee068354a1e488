"""One plan brought in step, the way every sync talks to an outside system (integrations.attempts):

1. read there -- outside any transaction (a few plans ahead, ``ReadAhead``);
2. decide here -- a three-way compare against the snapshot both sides last agreed on: changed on one
   side -> copied to the other; changed on both to different values -> a conflict for a person;
3. write there -- only after the intent is committed: the plan's outcome row says what is being
   written, the choice holds the values (``pending_push``) or the create's marker time
   (``create_started_at``); SOAP has no idempotency keys, so a create carries our marker
   (``planInfo.alternativePlanID``) and any later try looks it up before creating;
4. record here -- one new short transaction (local writes, snapshot, the outcome), only while this
   worker still holds the run (its try is the fencing token).

A worker that dies between 3 and 4 leaves the far side ahead of our record: the next try reads it back,
finds its own values there (``pending_push``) or its marker, and records without writing twice.
"""

import contextlib
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.jobs import job_update
from integrations.clients.benefitpoint import BenefitPointClient
from integrations.http import IntegrationError
from integrations.registry import System, external_id_link
from plans.models import Plan
from plans.services import plan_create, plan_update

from ..mapping import FIELD_LABELS, change_lines, comparable_local, comparable_remote, local_changes, remote_changes
from ..models import PlanChoice, PlanSyncConflict, PlanSyncItem, PlanSyncRun, Side
from .choices import first_sync_split, plan_rates
from .edits import sync_writes
from .intake import flag_removed

Choice, State, Item = PlanChoice.Choice, PlanChoice.State, PlanSyncItem
FIELDS = list(FIELD_LABELS)
AGENCYDESK, THERE = "to AgencyDesk", "to the benefits-admin system"


class LeaseLost(Exception):
    """The run's lease ran out and a newer try holds it: this worker records nothing more."""


def marker(plan: Plan) -> str:
    """The key we stamp on a product created from ``plan`` (``planInfo.alternativePlanID``)."""
    return f"AgencyDesk-plan-{plan.pk}"


@contextlib.contextmanager
def recording(run: PlanSyncRun):
    """One short transaction that writes only while this worker holds ``run`` (and renews its lease)."""
    with transaction.atomic():
        if not job_update(run, lease_until=timezone.now() + timedelta(seconds=settings.PLANSYNC_RUN_LEASE_SECONDS)):
            raise LeaseLost
        with sync_writes():
            yield


# --- reads there, a few at a time ----------------------------------------------------------------------


@dataclass
class Fetched:
    """What a plan's sync reads there (its product, its rate) before deciding; or why it could not."""

    product: dict | None = None
    rate: dict | None = None
    calls: int = 0
    error: IntegrationError | None = None


def _reads_first(choice: PlanChoice) -> bool:
    """Whether the plan's sync starts by reading there (a create there does not)."""
    if choice.state == State.PENDING:
        return bool(choice.product_id)
    return choice.needs_pull or bool(choice.needs_rate_pull and choice.rate_id)


def _read(client: BenefitPointClient, choice: PlanChoice) -> Fetched:
    """Calls only, no database (it runs in a pool thread)."""
    client = client.fork()
    try:
        if choice.state == State.PENDING:
            product, rate = _fetch(client, choice.product_id)
        else:
            product = client.get_product(choice.product_id) if choice.needs_pull else None
            rate = client.get_rate(choice.rate_id) if choice.needs_rate_pull and choice.rate_id else None
    except IntegrationError as exc:
        return Fetched(calls=client.calls, error=exc)
    return Fetched(product, rate, client.calls)


class ReadAhead:
    """The reads there of the plans a pass syncs, made ``PLANSYNC_CONCURRENCY`` at a time while the pass
    works, in the order it syncs them and at most a few plans ahead (so what a plan's sync decides on
    is as fresh as when it read it itself). Only reads: every write stays in its plan's transaction."""

    def __init__(self, client: BenefitPointClient, choices: list[PlanChoice]):
        self.client = client
        self.window = 2 * max(1, settings.PLANSYNC_CONCURRENCY)
        self.waiting = [c for c in choices if _reads_first(c)][::-1]  # next to read last
        self.unread = {c.pk for c in self.waiting}
        self.reading: dict[int, Future] = {}
        self.pool = ThreadPoolExecutor(max_workers=max(1, settings.PLANSYNC_CONCURRENCY), thread_name_prefix="plansync-read")

    def __enter__(self):
        self._top_up()
        return self

    def __exit__(self, *exc):
        self.pool.shutdown(cancel_futures=True)

    def _top_up(self) -> None:
        while self.waiting and len(self.reading) < self.window:
            choice = self.waiting.pop()
            if choice.pk in self.unread:
                self.unread.discard(choice.pk)
                self.reading[choice.pk] = self.pool.submit(_read, self.client, choice)

    def take(self, choice: PlanChoice) -> Fetched | None:
        """What was read for ``choice`` (counted in the client's calls now), or None if it was not read ahead."""
        future = self.reading.pop(choice.pk, None)
        self.unread.discard(choice.pk)  # taken out of turn: its sync reads it itself
        self._top_up()
        if future is None:
            return None
        fetched = future.result()
        self.client.calls += fetched.calls
        return fetched


# --- one plan ----------------------------------------------------------------------------------------


def _fetch(client: BenefitPointClient, product_id: int) -> tuple[dict, dict | None]:
    product = client.get_product(product_id)
    rates = client.find_rates(product_id)
    return product, (client.get_rate(rates[-1]["rateID"]) if rates else None)


def _change_list(values: dict, before: dict, direction: str) -> list[dict]:
    """One change per field, per benefit and per rate tier, as people read them (labels, money as money)."""
    product_type = values.get("productTypeID") or before.get("productTypeID")
    return [
        {"field": label, "old": old, "new": new, "direction": direction}
        for f, v in values.items()
        for label, old, new in change_lines(f, before.get(f), v, product_type_id=product_type)
    ]


def _intent(run: PlanSyncRun, choice: PlanChoice, push: dict) -> None:
    """Commit the values about to be written there, before they are (while this worker holds the run)."""
    with recording(run):
        choice.pending_push = push
        PlanChoice.objects.filter(pk=choice.pk).update(pending_push=push)


def _write_there(client: BenefitPointClient, choice: PlanChoice, push: dict, local: dict) -> tuple[dict | None, dict | None]:
    """Write ``push`` there (calls only, outside any transaction); returns what the product and the rate hold
    now (read back for their lastModifiedOn, so findChanges recognises our own writes), None for one not written."""
    product, tiers = remote_changes(push)
    written_product = written_rate = None
    if product:
        client.update_product({"productID": choice.product_id, **product})
        written_product = client.get_product(choice.product_id)
    if tiers is not None:
        if not choice.rate_id:  # look before creating: an earlier try may have created it and lost the record
            found = client.find_rates(choice.product_id)
            choice.rate_id = found[-1]["rateID"] if found else None
        if choice.rate_id:
            client.update_rate({"rateID": choice.rate_id, "rateTiers": tiers})
        else:
            choice.rate_id = _create_rate(client, choice.product_id, local, tiers)
        written_rate = client.get_rate(choice.rate_id)
    return written_product, written_rate


def _create_rate(client: BenefitPointClient, product_id: int, values: dict, tiers: list[dict]) -> int:
    return client.create_rate(
        {
            "productID": product_id,
            "rateTypeID": values["productTypeID"] * 10 + 1,
            "description": "Monthly premium",
            "effectiveAsOf": values["effectiveAsOf"],
            "expirationOn": values["renewalOn"],
            "rateTiers": tiers,
        }
    )


def _pull_here(choice: PlanChoice, pull: dict) -> Plan:
    data, rates = local_changes(pull, choice.plan)
    return plan_update(actor=None, plan=choice.plan, data=data, rates=rates)


def _item_done(item: PlanSyncItem, *, action: str, changes: list[dict]) -> None:
    """The plan's outcome, saved in the same transaction as its record here."""
    item.status, item.action, item.changes = Item.Status.SUCCEEDED, action[:120], changes
    item.save(update_fields=["status", "action", "changes"])


def _settle(choice: PlanChoice, *, snapshot: dict, plan: Plan | None, product: dict | None, rate: dict | None) -> None:
    """The new agreed state of the plan (the recording step every path ends with)."""
    choice.snapshot = snapshot
    choice.state = State.SYNCED
    choice.needs_pull = choice.needs_rate_pull = False
    choice.pending_push = {}
    if plan is not None:
        choice.plan = plan
        choice.local_version = plan.version
    if product is not None:
        choice.remote_modified_on = product["lastModifiedOn"]
    if rate is not None:
        choice.rate_id, choice.rate_modified_on = rate["rateID"], rate.get("lastModifiedOn") or ""
    choice.save()


def _agreed(choice: PlanChoice, field: str, theirs):
    """The last agreed value of ``field``; what we were writing there counts once we find it there."""
    pending = choice.pending_push or {}
    return pending[field] if field in pending and pending[field] == theirs else choice.snapshot.get(field)


def sync_choice(client: BenefitPointClient, run: PlanSyncRun, choice: PlanChoice, item: PlanSyncItem, fetched: Fetched | None = None) -> None:
    """Bring one plan in step: read, decide, write there, record here. Raises ``Unmappable`` /
    ``ValidationError`` / ``IntegrationError`` (the outcome is recorded by the caller) or ``LeaseLost``.
    ``fetched``: what the pass read there for it already (else it is read now)."""
    if fetched is None and _reads_first(choice):
        fetched = _read(client, choice)
        client.calls += fetched.calls
    if fetched is not None and fetched.error is not None:
        raise fetched.error
    plan = choice.plan
    local = comparable_local(plan, plan_rates(plan)) if plan else None
    if choice.state == State.PENDING:
        return _first_sync(client, run, choice, local, item, fetched)
    snapshot = dict(choice.snapshot)
    remote = dict(snapshot)
    product = rate = None
    if choice.needs_pull:
        product = fetched.product
        remote.update({k: v for k, v in comparable_remote(product, None).items() if k != "rates"})
    if choice.needs_rate_pull and choice.rate_id:
        rate = fetched.rate
        remote["rates"] = comparable_remote({}, rate)["rates"]
    if remote.get("productStatus") == "Cancelled" and snapshot.get("productStatus") != "Cancelled":
        with recording(run):
            flag_removed(choice, f"Cancelled in the benefits-admin system ({product.get('cancellationReason') or 'no reason given'}).")
            _item_done(item, action="Removed there: keep or archive?", changes=[])
        return
    open_conflicts = getattr(choice, "open_conflicts", None)  # prefetched (an empty list is an answer too)
    open_fields = {c.field for c in (choice.conflicts.filter(status=PlanSyncConflict.Status.OPEN) if open_conflicts is None else open_conflicts)}
    push, pull, conflicts = {}, {}, {}
    for field in FIELDS:
        mine, theirs = local.get(field), remote.get(field)
        agreed = _agreed(choice, field, theirs)
        if field in open_fields or mine == theirs:
            continue
        if theirs == agreed:
            push[field] = mine
        elif mine == agreed:
            pull[field] = theirs
        else:
            conflicts[field] = (mine, theirs, agreed)
    if push:
        _intent(run, choice, push)
        written_product, written_rate = _write_there(client, choice, push, local)
        product, rate = written_product or product, written_rate or rate
    with recording(run):
        if pull:
            plan = _pull_here(choice, pull)
        for field, (mine, theirs, agreed) in conflicts.items():
            PlanSyncConflict.objects.create(choice=choice, field=field, local_value=mine, remote_value=theirs, agreed_value=agreed)
        for field in FIELDS:
            if field not in conflicts and field not in open_fields:
                snapshot[field] = local.get(field) if field in push or local.get(field) == remote.get(field) else remote.get(field)
        _settle(choice, snapshot=snapshot, plan=plan, product=product, rate=rate)
        _item_done(
            item,
            changes=_change_list(pull, local, AGENCYDESK) + _change_list(push, remote, THERE),
            action=", ".join(
                filter(
                    None,
                    [
                        "updated here" if pull else "",
                        "updated there" if push else "",
                        f"{len(conflicts)} conflict{'s' * (len(conflicts) != 1)}" if conflicts else "",
                    ],
                )
            )
            or "no change",
        )


def _first_sync(
    client: BenefitPointClient, run: PlanSyncRun, choice: PlanChoice, local: dict | None, item: PlanSyncItem, fetched: Fetched | None
) -> None:
    if choice.plan_id and not choice.product_id:
        return _create_there(client, run, choice, local, item)
    product, rate = fetched.product, fetched.rate
    remote = comparable_remote(product, rate)
    if rate:
        choice.rate_id = rate["rateID"]
    if not choice.plan_id:
        return _create_here(run, choice, remote, product, rate, item)
    if choice.choice == Choice.CREATE_THERE:  # created there by an earlier try; its rate or its record did not follow
        choice.truth_details = choice.truth_benefits = choice.truth_rates = Side.AGENCYDESK
    push, pull = first_sync_split(choice, local, remote)
    if push:
        _intent(run, choice, push)
        written_product, written_rate = _write_there(client, choice, push, local)
        product, rate = written_product or product, written_rate or rate
    with recording(run):
        plan = _pull_here(choice, pull) if pull else choice.plan
        external_id_link(obj=plan, system=System.BENEFITS_ADMIN, object_type="product", external_id=str(choice.product_id))
        _settle(choice, snapshot={**local, **pull}, plan=plan, product=product, rate=rate)
        created_before = choice.choice == Choice.CREATE_THERE
        _item_done(
            item,
            changes=_change_list(pull, local, AGENCYDESK) + _change_list(push, remote, THERE),
            action=("created there by an earlier try, now linked" if created_before else "linked") + (" and merged" if push or pull else ""),
        )


def _create_here(run: PlanSyncRun, choice: PlanChoice, remote: dict, product: dict, rate: dict | None, item: PlanSyncItem) -> None:
    data, rates = local_changes(remote, None)
    parent = (
        PlanChoice.objects.filter(product_id=product.get("parentProductID")).select_related("plan").first()
        if product.get("parentProductID")
        else None
    )
    renewed_from = parent.plan if parent and parent.plan and not Plan.objects.filter(renewed_from=parent.plan).exists() else None
    with recording(run):
        plan = plan_create(actor=None, rates=rates or [], renewed_from=renewed_from, group=choice.link.group, **data)
        external_id_link(obj=plan, system=System.BENEFITS_ADMIN, object_type="product", external_id=str(choice.product_id))
        _settle(choice, snapshot=remote, plan=plan, product=product, rate=rate)
        _item_done(
            item, changes=_change_list(remote, {}, AGENCYDESK), action="created here" + (f" as the renewal of {renewed_from}" if renewed_from else "")
        )


def _create_there(client: BenefitPointClient, run: PlanSyncRun, choice: PlanChoice, local: dict, item: PlanSyncItem) -> None:
    plan, key = choice.plan, marker(choice.plan)
    product_id = found = None
    if choice.create_started_at:  # an earlier try may have created it: look before creating again
        product_id = found = client.find_product_by_marker(choice.link.account_id, key, choice.create_started_at - timedelta(minutes=10))
    if product_id is None:
        with recording(run):  # the intent, committed before the create: a later try looks the marker up
            choice.create_started_at = timezone.now()
            PlanChoice.objects.filter(pk=choice.pk).update(create_started_at=choice.create_started_at)
            item.action = f"creating there (marker {key})"
            item.save(update_fields=["action"])
        fields, tiers = remote_changes(local)
        parent = getattr(plan.renewed_from, "plan_sync_choice", None) if plan.renewed_from_id else None
        product_id = client.create_product(
            {
                "accountID": choice.link.account_id,
                **fields,
                "premiumPaymentFrequency": "Monthly",
                "policyOriginationReason": "Renewal" if parent and parent.product_id else "New",
                "parentProductID": parent.product_id if parent else None,
                "planInfo": {"alternativePlanID": key},
            }
        )
    # Keep the id at once: whatever fails next, the plan is linked to what was created.
    PlanChoice.objects.filter(pk=choice.pk).update(product_id=product_id)
    choice.product_id = product_id
    if found:  # created by an earlier try whose record never came: compare with what is there, then record
        return _first_sync(client, run, choice, local, item, Fetched(*_fetch(client, product_id)))
    _, tiers = remote_changes(local)
    rate = client.get_rate(_create_rate(client, product_id, local, tiers)) if tiers else None
    product = client.get_product(product_id)
    with recording(run):
        external_id_link(obj=plan, system=System.BENEFITS_ADMIN, object_type="product", external_id=str(product_id))
        _settle(choice, snapshot=local, plan=plan, product=product, rate=rate)
        _item_done(item, changes=_change_list(local, {}, THERE), action="created there" + (" as a renewal" if plan.renewed_from_id else ""))
