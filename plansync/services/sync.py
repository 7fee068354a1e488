"""The two-way plan sync. A pass (hourly, or "Sync now" for one group) uses one session:

1. intake: one ``findChanges`` for the whole system from the watermark (the server's
   ``processStartedOn``, minus a small overlap; deduplicated against each link's last seen
   ``lastModifiedOn``, so our own writes coming back are recognised), flags what changed there,
   follows new renewals (``parentProductID``) and deletions;
2. one run per group with work (never two at once for a group: a unique "In progress" row), and
   per plan a three-way compare against the snapshot both sides last agreed on: changed on one
   side -> copied to the other; changed on both to different values -> a conflict for a person.

Each plan is all or nothing: its local writes and its calls there succeed together or the plan
fails with the reason (and the next run tries again). Creates there carry the plan's marker.
"""
import contextlib
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Prefetch, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import AuditLog, User
from accounts.services import audit
from integrations.clients.benefitpoint import BenefitPointClient, BenefitPointResultError, benefitpoint_client
from integrations.http import IntegrationError
from integrations.registry import System, external_id_link
from plans.models import Plan
from plans.services import plan_create, plan_update

from ..mapping import FIELD_LABELS, Unmappable, comparable_local, comparable_remote, display, local_changes, remote_changes
from ..models import AccountLink, PlanChoice, PlanSyncConflict, PlanSyncItem, PlanSyncRun, RemotePlan, Side, SyncCursor
from .accounts import edits_there_note
from .ams_policies import plans_to_ams
from .choices import first_sync_split, plan_rates

Choice, State, Run, Item = PlanChoice.Choice, PlanChoice.State, PlanSyncRun, PlanSyncItem
FIELDS = list(FIELD_LABELS)
AGENCYDESK, THERE = "to AgencyDesk", "to the benefits-admin system"


def marker(plan: Plan) -> str:
    """The key we stamp on a product created from ``plan`` (``planInfo.alternativePlanID``)."""
    return f"AgencyDesk-plan-{plan.pk}"


# --- intake ----------------------------------------------------------------------------------------

def changes_intake(client: BenefitPointClient) -> int:
    """Read what changed there since the watermark (one call) and flag it; returns the changes seen."""
    cursor, _ = SyncCursor.objects.get_or_create(name="benefits_admin")
    overlap = timedelta(seconds=settings.PLANSYNC_WATERMARK_OVERLAP_SECONDS)
    start = cursor.watermark or (AccountLink.objects.order_by("created_at").values_list("created_at", flat=True).first()
                                 or timezone.now())
    summary = client.find_changes(start - overlap, ["Product", "Rate", "Account", "Account_Contact"])
    products, rates, deleted, edited = {}, {}, set(), {"Account": set(), "Account_Contact": set()}
    for m in summary.get("modifications") or []:
        if m["entityType"] in edited:
            edited[m["entityType"]].add(m["entityID"])
            continue
        target = products if m["entityType"] == "Product" else rates
        target[m["entityID"]] = max(target.get(m["entityID"], ""), m["lastModifiedOn"])
    for d in summary.get("deletions") or []:
        if d["entityType"] == "Product":
            deleted.add(d["entityID"])
    choices = {c.product_id: c for c in PlanChoice.objects.filter(product_id__in=set(products) | deleted)}
    flagged = []
    for product_id, modified in products.items():
        choice = choices.get(product_id)
        if choice is not None and choice.state == State.SYNCED and choice.remote_modified_on != modified:
            choice.needs_pull = True
            flagged.append(choice)
    for choice in PlanChoice.objects.filter(rate_id__in=list(rates), state=State.SYNCED):
        if choice.rate_modified_on != rates[choice.rate_id]:
            choice.needs_rate_pull = True
            flagged.append(choice)
    _new_products(client, [p for p in products if p not in choices and p not in deleted])
    edits_there_note(client, account_ids=edited["Account"], contact_ids=edited["Account_Contact"])
    with transaction.atomic():
        PlanChoice.objects.bulk_update(flagged, ["needs_pull", "needs_rate_pull"])
        for product_id in deleted:
            if product_id in choices and choices[product_id].state in (State.SYNCED, State.PENDING):
                flag_removed(choices[product_id], "Deleted in the benefits-admin system.")
        RemotePlan.objects.filter(product_id__in=deleted).delete()
        cursor.watermark = parse_datetime(summary["processStartedOn"])
        cursor.save()
    with contextlib.suppress(IntegrationError):  # plans added there for an AMS customer's account: AMS policies
        plans_to_ams(client, {p for p in products if p not in choices and p not in deleted})  # (else the next pass)
    return len(products) + len(rates) + len(deleted)


def _new_products(client: BenefitPointClient, product_ids: list[int]) -> None:
    """Products we have no choice for: a renewal of a synced plan syncs by itself; others wait for a person."""
    if not product_ids:
        return
    cached = dict(RemotePlan.objects.filter(product_id__in=product_ids).values_list("product_id", "account_id"))
    links = {link.account_id: link for link in AccountLink.objects.all()}
    for product_id in product_ids:
        if product_id in cached and cached[product_id] not in links:
            continue  # a product of an account no group is linked to
        product = client.get_product(product_id)
        RemotePlan.objects.update_or_create(product_id=product_id, defaults={"account_id": product["accountID"], "data": product})
        link = links.get(product["accountID"])
        parent = PlanChoice.objects.filter(product_id=product.get("parentProductID"), state=State.SYNCED).first() \
            if product.get("parentProductID") else None
        if link and parent:
            try:
                with transaction.atomic():  # a concurrent pass may have followed the same renewal
                    PlanChoice.objects.create(link=link, product_id=product_id, choice=Choice.CREATE_THERE,
                                              truth_details=parent.truth_details, truth_benefits=parent.truth_benefits,
                                              truth_rates=parent.truth_rates)
            except IntegrityError:
                pass


def flag_removed(choice: PlanChoice, why: str) -> None:
    choice.state = State.REMOVED_THERE
    choice.save(update_fields=["state", "updated_at"])
    PlanSyncConflict.objects.get_or_create(choice=choice, field="", status=PlanSyncConflict.Status.OPEN,
                                           defaults={"kind": PlanSyncConflict.Kind.REMOVED, "remote_value": why})


# --- passes and runs ---------------------------------------------------------------------------------

def links_with_work() -> set[int]:
    """Groups with something to do: flagged or pending choices, local edits, local renewals of synced plans."""
    ids = set(PlanChoice.objects.filter(Q(needs_pull=True) | Q(needs_rate_pull=True) | Q(state=State.PENDING))
              .values_list("link_id", flat=True))
    ids |= set(PlanChoice.objects.filter(state=State.SYNCED, plan__isnull=False).exclude(plan__version=F("local_version"))
               .values_list("link_id", flat=True))
    ids |= set(Plan.objects.filter(plan_sync_choice__isnull=True, renewed_from__plan_sync_choice__state=State.SYNCED,
                                   group__benefits_admin_link__isnull=False).values_list("group__benefits_admin_link", flat=True))
    return ids


def plan_sync_pass(*, trigger: str = Run.Trigger.HOURLY, actor: User | None = None,
                   link_ids: list[int] | None = None) -> list[PlanSyncRun]:
    """One pass with one session: intake, then a run for each group with work (or for ``link_ids``)."""
    runs = []
    try:
        client = benefitpoint_client()
    except IntegrationError as exc:
        return [_refused_run(link, trigger, actor, exc.message) for link in AccountLink.objects.filter(pk__in=link_ids or [])]
    with client:
        note = ""
        try:
            changes_intake(client)
        except IntegrationError as exc:
            note = f"Changes there could not be read ({exc.message}); local changes were still sent."
        targets = set(link_ids) if link_ids is not None else links_with_work()
        _expire_dead_runs()
        renewing = _groups_with_local_renewals()
        links = list(AccountLink.objects.filter(pk__in=targets).select_related("group").order_by("pk"))
        started = _runs_start(links, trigger, actor)
        # The plans of every group in one read (groups following a local renewal read theirs after adding it);
        # what their syncs read there is read a few plans ahead, a few calls at a time.
        preload = _choices([link.pk for link in links if link.group_id not in renewing])
        ahead = [c for link in links if started[link.pk].status != Run.Status.SKIPPED
                 for c in preload.get(link.pk, []) if _has_work(c)]
        with ReadAhead(client, ahead) as reads:
            for link in links:
                if started[link.pk].status == Run.Status.SKIPPED:
                    runs.append(started[link.pk])
                    continue
                runs.append(run_group(client, link, trigger=trigger, actor=actor, note=note, run=started[link.pk],
                                      follow_renewals=link.group_id in renewing, reads=reads,
                                      choices=None if link.group_id in renewing else preload.get(link.pk, [])))
    if runs:
        failed = sum(r.status == Run.Status.FAILED for r in runs)
        audit(actor=actor, action=AuditLog.Action.SYNC, model=AccountLink, object_repr=f"{len(runs)} groups",
              summary=f"Plan sync pass ({Run.Trigger(trigger).label}): {len(runs)} runs, {failed} with failures",
              data={"runs": [r.pk for r in runs]})
    return runs


def _refused_run(link, trigger, actor, reason) -> PlanSyncRun:
    now = timezone.now()
    return PlanSyncRun.objects.create(link=link, trigger=trigger, requested_by=actor, status=Run.Status.FAILED,
                                      finished_at=now, summary=f"The benefits-admin system could not be reached: {reason}")


def _expire_dead_runs() -> None:
    """Runs still In progress past their lease: their worker stopped; their groups may run again."""
    now = timezone.now()
    PlanSyncRun.objects.filter(status=Run.Status.IN_PROGRESS, lease_until__lt=now).update(
        status=Run.Status.FAILED, finished_at=now, lease_until=None,
        summary="Stopped before it finished (its worker stopped): the next run picks its plans up again.")


def _run_start(link: AccountLink, trigger: str, actor: User | None) -> PlanSyncRun:
    now = timezone.now()
    try:
        with transaction.atomic():
            return PlanSyncRun.objects.create(link=link, trigger=trigger, requested_by=actor,
                                              lease_until=now + timedelta(seconds=settings.PLANSYNC_RUN_LEASE_SECONDS))
    except IntegrityError:
        return PlanSyncRun.objects.create(link=link, trigger=trigger, requested_by=actor, status=Run.Status.SKIPPED,
                                          finished_at=now, summary="Another run of this group was in progress: skipped, so runs never overlap.")


def _runs_start(links: list[AccountLink], trigger: str, actor: User | None) -> dict[int, PlanSyncRun]:
    """A run In progress for each group (one insert), or a Skipped one where a run is in progress already."""
    busy = set(PlanSyncRun.objects.filter(link__in=links, status=Run.Status.IN_PROGRESS).values_list("link_id", flat=True))
    lease = timezone.now() + timedelta(seconds=settings.PLANSYNC_RUN_LEASE_SECONDS)
    free = [link for link in links if link.pk not in busy]
    try:
        with transaction.atomic():
            started = PlanSyncRun.objects.bulk_create([PlanSyncRun(link=link, trigger=trigger, requested_by=actor, lease_until=lease)
                                                       for link in free])
    except IntegrityError:  # a concurrent pass started one of them: one by one, skipping those
        started = [_run_start(link, trigger, actor) for link in free]
    runs = {run.link_id: run for run in started}
    runs.update({link.pk: _run_start(link, trigger, actor) for link in links if link.pk in busy})
    return runs


def _choices(link_ids: list[int]) -> dict[int, list[PlanChoice]]:
    """The syncing plan choices of these groups, with what a run reads of them, by group."""
    open_conflicts = Prefetch("conflicts", queryset=PlanSyncConflict.objects.filter(status=PlanSyncConflict.Status.OPEN),
                              to_attr="open_conflicts")
    by_link: dict[int, list[PlanChoice]] = {}
    if link_ids:
        for choice in (PlanChoice.objects.filter(link_id__in=link_ids, state__in=[State.PENDING, State.SYNCED])
                       .select_related("link__group", "plan__carrier", "plan__renewed_from")
                       .prefetch_related("plan__rates", open_conflicts).order_by("pk")):
            by_link.setdefault(choice.link_id, []).append(choice)
    return by_link


def _groups_with_local_renewals() -> set[int]:
    return set(Plan.objects.filter(plan_sync_choice__isnull=True, renewed_from__plan_sync_choice__state=State.SYNCED)
               .values_list("group_id", flat=True))


def _local_renewals(link: AccountLink) -> None:
    """A plan renewed here from a synced plan follows it there (created with ``parentProductID``)."""
    for plan in Plan.objects.filter(group=link.group, plan_sync_choice__isnull=True,
                                    renewed_from__plan_sync_choice__state=State.SYNCED).select_related("renewed_from__plan_sync_choice"):
        parent = plan.renewed_from.plan_sync_choice
        PlanChoice.objects.create(link=link, plan=plan, choice=Choice.CREATE_THERE, truth_details=parent.truth_details,
                                  truth_benefits=parent.truth_benefits, truth_rates=parent.truth_rates)


def _has_work(choice: PlanChoice) -> bool:
    return (choice.state == State.PENDING or choice.needs_pull or choice.needs_rate_pull
            or (choice.plan_id is not None and choice.plan.version != choice.local_version))


def run_group(client: BenefitPointClient, link: AccountLink, *, trigger: str = Run.Trigger.HOURLY, actor: User | None = None,
              note: str = "", follow_renewals: bool = True, run: PlanSyncRun | None = None,
              choices: list[PlanChoice] | None = None, reads: "ReadAhead | None" = None) -> PlanSyncRun:
    """Sync one group's plans in one run (skipped if the group has a run in progress). A pass hands
    in the run it started, the choices it read for every group at once and its reads there ahead."""
    run = run or _run_start(link, trigger, actor)
    if run.status == Run.Status.SKIPPED:
        return run
    calls = client.calls
    if follow_renewals:
        _local_renewals(link)
    if choices is None:
        choices = _choices([link.pk]).get(link.pk, [])
    counts = {"changed": 0, "failed": 0, "conflicts": 0}
    work = [c for c in choices if _has_work(c)]
    unnamed = [c.product_id for c in work if not c.plan_id]
    names = dict(RemotePlan.objects.filter(product_id__in=unnamed).values_list("product_id", "data__name")) if unnamed else {}
    # Every plan with work shows In progress at once; each one settles in its own transaction.
    items = PlanSyncItem.objects.bulk_create([
        PlanSyncItem(run=run, choice=c, plan_label=(str(c) if c.plan_id else f"{names.get(c.product_id) or 'Plan'} "
                                                    f"(benefits-admin {c.product_id})")[:250]) for c in work])
    for choice, item in zip(work, items, strict=True):
        try:
            # Saves the item Successful with the plan's writes.
            sync_choice(client, choice, item, reads.take(choice) if reads else None)
        except Unmappable as exc:
            item.status, item.reason = Item.Status.FAILED, f"{str(exc).rstrip(':')}: this plan can't be synced until it is changed."
        except ValidationError as exc:
            item.status, item.reason = Item.Status.FAILED, "AgencyDesk refused the values: " + _messages(exc)
        except BenefitPointResultError as exc:
            item.status, item.reason = Item.Status.FAILED, f"The benefits-admin system refused the plan: {exc.message}"
        except IntegrationError as exc:
            item.status, item.reason = Item.Status.FAILED, (f"The benefits-admin system was unavailable: {exc.message}. "
                                                            "Nothing was written twice; the next run tries again.")
        if item.status == Item.Status.FAILED:
            item.changes = []
            item.save(update_fields=["status", "reason", "changes"])
        counts["changed"] += bool(item.changes)
        counts["failed"] += item.status == Item.Status.FAILED
        counts["conflicts"] += "conflict" in item.action
    status = Run.Status.FAILED if counts["failed"] else Run.Status.SUCCESSFUL
    summary = (f"{len(items)} plan{'s' * (len(items) != 1)} with changes: {counts['changed']} changed, {counts['conflicts']} with conflicts, "
               f"{counts['failed']} failed.")
    finished = {"status": status, "finished_at": timezone.now(), "lease_until": None, "calls": client.calls - calls,
                "summary": " ".join(filter(None, [summary, note]))}
    if PlanSyncRun.objects.filter(pk=run.pk, status=Run.Status.IN_PROGRESS).update(**finished):
        for field, value in finished.items():
            setattr(run, field, value)
    return run


def _messages(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in exc.message_dict.items())
    return " ".join(exc.messages)


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
    return [{"field": FIELD_LABELS[f], "old": display(f, before.get(f)), "new": display(f, v), "direction": direction}
            for f, v in values.items()]


def _apply_local(choice: PlanChoice, pull: dict) -> Plan:
    data, rates = local_changes(pull, choice.plan)
    return plan_update(actor=None, plan=choice.plan, data=data, rates=rates)


def _apply_remote(client: BenefitPointClient, choice: PlanChoice, push: dict, local: dict) -> tuple[dict | None, dict | None]:
    """Write ``push`` there; returns what the product and the rate hold now (read back for their
    lastModifiedOn, so findChanges recognises our own writes), or None for the one not written."""
    product, tiers = remote_changes(push)
    written_product = written_rate = None
    if product:
        client.update_product({"productID": choice.product_id, **product})
        written_product = client.get_product(choice.product_id)
    if tiers is not None:
        if choice.rate_id:
            client.update_rate({"rateID": choice.rate_id, "rateTiers": tiers})
        else:
            choice.rate_id = _create_rate(client, choice.product_id, local, tiers)
        written_rate = client.get_rate(choice.rate_id)
    return written_product, written_rate


def _create_rate(client: BenefitPointClient, product_id: int, values: dict, tiers: list[dict]) -> int:
    return client.create_rate({"productID": product_id, "rateTypeID": values["productTypeID"] * 10 + 1,
                               "description": "Monthly premium", "effectiveAsOf": values["effectiveAsOf"],
                               "expirationOn": values["renewalOn"], "rateTiers": tiers})


def _item_done(item: PlanSyncItem, *, action: str, changes: list[dict]) -> None:
    """The plan's outcome, saved in the same transaction as its writes."""
    item.status, item.action, item.changes = Item.Status.SUCCESSFUL, action, changes
    item.save(update_fields=["status", "action", "changes"])


def _settle(choice: PlanChoice, *, snapshot: dict, plan: Plan | None, product: dict | None, rate: dict | None) -> None:
    choice.snapshot = snapshot
    choice.state = State.SYNCED
    choice.needs_pull = choice.needs_rate_pull = False
    if plan is not None:
        choice.plan = plan
        choice.local_version = plan.version
    if product is not None:
        choice.remote_modified_on = product["lastModifiedOn"]
    if rate is not None:
        choice.rate_id, choice.rate_modified_on = rate["rateID"], rate.get("lastModifiedOn") or ""
    choice.save()


def sync_choice(client: BenefitPointClient, choice: PlanChoice, item: PlanSyncItem, fetched: Fetched | None = None) -> None:
    """Bring one plan in step; raises ``Unmappable`` / ``ValidationError`` / ``IntegrationError`` with nothing half-done.
    ``fetched``: what the pass read there for it already (else it is read now)."""
    if fetched is None and _reads_first(choice):
        fetched = _read(client, choice)
        client.calls += fetched.calls
    if fetched is not None and fetched.error is not None:
        raise fetched.error
    plan = choice.plan
    local = comparable_local(plan, plan_rates(plan)) if plan else None
    if choice.state == State.PENDING:
        return _first_sync(client, choice, local, item, fetched)
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
        with transaction.atomic():
            flag_removed(choice, f"Cancelled in the benefits-admin system ({product.get('cancellationReason') or 'no reason given'}).")
            _item_done(item, action="Removed there: keep or archive?", changes=[])
        return
    open_conflicts = getattr(choice, "open_conflicts", None)  # prefetched (an empty list is an answer too)
    open_fields = {c.field for c in (choice.conflicts.filter(status=PlanSyncConflict.Status.OPEN)
                                     if open_conflicts is None else open_conflicts)}
    push, pull, conflicts = {}, {}, {}
    for field in FIELDS:
        mine, theirs, agreed = local.get(field), remote.get(field), snapshot.get(field)
        if field in open_fields or mine == theirs:
            continue
        if theirs == agreed:
            push[field] = mine
        elif mine == agreed:
            pull[field] = theirs
        else:
            conflicts[field] = (mine, theirs, agreed)
    with transaction.atomic():
        if pull:
            plan = _apply_local(choice, pull)
        if push:
            written_product, written_rate = _apply_remote(client, choice, push, local)
            product, rate = written_product or product, written_rate or rate
        for field, (mine, theirs, agreed) in conflicts.items():
            PlanSyncConflict.objects.create(choice=choice, field=field, local_value=mine, remote_value=theirs, agreed_value=agreed)
        for field in FIELDS:
            if field not in conflicts and field not in open_fields:
                snapshot[field] = local.get(field) if field in push or local.get(field) == remote.get(field) else remote.get(field)
        _settle(choice, snapshot=snapshot, plan=plan, product=product, rate=rate)
        _item_done(item, changes=_change_list(pull, local, AGENCYDESK) + _change_list(push, remote, THERE),
                   action=", ".join(filter(None, ["updated here" if pull else "", "updated there" if push else "",
                                                  f"{len(conflicts)} conflict{'s' * (len(conflicts) != 1)}" if conflicts else ""]))
                   or "no change")


def _first_sync(client: BenefitPointClient, choice: PlanChoice, local: dict | None, item: PlanSyncItem,
                fetched: Fetched | None) -> None:
    if choice.plan_id and not choice.product_id:
        return _create_there(client, choice, local, item)
    product, rate = fetched.product, fetched.rate
    remote = comparable_remote(product, rate)
    if rate:
        choice.rate_id = rate["rateID"]
    if not choice.plan_id:
        return _create_here(choice, remote, product, rate, item)
    if choice.choice == Choice.CREATE_THERE:  # created there in an earlier run; its rate or settling failed
        choice.truth_details = choice.truth_benefits = choice.truth_rates = Side.AGENCYDESK
    push, pull = first_sync_split(choice, local, remote)
    with transaction.atomic():
        plan = _apply_local(choice, pull) if pull else choice.plan
        if push:
            written_product, written_rate = _apply_remote(client, choice, push, local)
            product, rate = written_product or product, written_rate or rate
        external_id_link(obj=plan, system=System.BENEFITS_ADMIN, object_type="product", external_id=str(choice.product_id))
        _settle(choice, snapshot={**local, **pull}, plan=plan, product=product, rate=rate)
        _item_done(item, changes=_change_list(pull, local, AGENCYDESK) + _change_list(push, remote, THERE),
                   action="linked" + (" and merged" if push or pull else ""))


def _create_here(choice: PlanChoice, remote: dict, product: dict, rate: dict | None, item: PlanSyncItem) -> None:
    data, rates = local_changes(remote, None)
    parent = PlanChoice.objects.filter(product_id=product.get("parentProductID")).select_related("plan").first() \
        if product.get("parentProductID") else None
    renewed_from = parent.plan if parent and parent.plan and not Plan.objects.filter(renewed_from=parent.plan).exists() else None
    with transaction.atomic():
        plan = plan_create(actor=None, rates=rates or [], renewed_from=renewed_from, group=choice.link.group, **data)
        external_id_link(obj=plan, system=System.BENEFITS_ADMIN, object_type="product", external_id=str(choice.product_id))
        _settle(choice, snapshot=remote, plan=plan, product=product, rate=rate)
        _item_done(item, changes=_change_list(remote, {}, AGENCYDESK),
                   action="created here" + (f" as the renewal of {renewed_from}" if renewed_from else ""))


def _create_there(client: BenefitPointClient, choice: PlanChoice, local: dict, item: PlanSyncItem) -> None:
    plan, key = choice.plan, marker(choice.plan)
    product_id = None
    if choice.create_started_at:  # an earlier try may have created it: look before creating again
        product_id = client.find_product_by_marker(choice.link.account_id, key, choice.create_started_at - timedelta(minutes=10))
    if product_id is None:
        PlanChoice.objects.filter(pk=choice.pk).update(create_started_at=timezone.now())
        choice.create_started_at = timezone.now()
        fields, tiers = remote_changes(local)
        parent = getattr(plan.renewed_from, "plan_sync_choice", None) if plan.renewed_from_id else None
        product_id = client.create_product({
            "accountID": choice.link.account_id, **fields, "premiumPaymentFrequency": "Monthly",
            "policyOriginationReason": "Renewal" if parent and parent.product_id else "New",
            "parentProductID": parent.product_id if parent else None, "planInfo": {"alternativePlanID": key}})
    # Keep the id at once: whatever fails next, the plan is linked to what was created.
    PlanChoice.objects.filter(pk=choice.pk).update(product_id=product_id)
    choice.product_id = product_id
    _, tiers = remote_changes(local)
    rate = client.get_rate(_create_rate(client, product_id, local, tiers)) if tiers else None
    product = client.get_product(product_id)
    with transaction.atomic():
        external_id_link(obj=plan, system=System.BENEFITS_ADMIN, object_type="product", external_id=str(product_id))
        _settle(choice, snapshot=local, plan=plan, product=product, rate=rate)
        _item_done(item, changes=_change_list(local, {}, THERE), action="created there" + (" as a renewal" if plan.renewed_from_id else ""))
