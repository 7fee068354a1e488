"""What changed in the benefits-admin system since the last pass (one ``findChanges`` from the server's
watermark, a small overlap re-read and deduplicated against each plan's last seen ``lastModifiedOn``, so
our own writes coming back are recognised): flags plans to pull, follows new renewals and deletions, and
hands plans added there for an AMS customer's account to ``ams`` as policies. Calls there happen outside
any transaction; what they found is written in short ones."""

import contextlib
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from ams.services.policies import group_policy_add
from integrations.clients.ams360 import ams360_client
from integrations.clients.benefitpoint import BenefitPointClient
from integrations.http import IntegrationError
from integrations.registry import System, external_id_of, external_id_record_sync

from ..models import AccountLink, PlanChoice, PlanSyncConflict, RemotePlan, SyncCursor
from .accounts import ams_account_links, edits_there_note

Choice, State = PlanChoice.Choice, PlanChoice.State


def changes_intake(client: BenefitPointClient) -> int:
    """Read what changed there since the watermark (one call) and flag it; returns the changes seen."""
    cursor, _ = SyncCursor.objects.get_or_create(name="benefits_admin")
    overlap = timedelta(seconds=settings.PLANSYNC_WATERMARK_OVERLAP_SECONDS)
    start = cursor.watermark or (AccountLink.objects.order_by("created_at").values_list("created_at", flat=True).first() or timezone.now())
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
        parent = (
            PlanChoice.objects.filter(product_id=product.get("parentProductID"), state=State.SYNCED).first()
            if product.get("parentProductID")
            else None
        )
        if link and parent:
            try:
                with transaction.atomic():  # a concurrent pass may have followed the same renewal
                    PlanChoice.objects.create(
                        link=link,
                        product_id=product_id,
                        choice=Choice.CREATE_THERE,
                        truth_details=parent.truth_details,
                        truth_benefits=parent.truth_benefits,
                        truth_rates=parent.truth_rates,
                    )
            except IntegrityError:
                pass


def flag_removed(choice: PlanChoice, why: str) -> None:
    choice.state = State.REMOVED_THERE
    choice.save(update_fields=["state", "updated_at"])
    PlanSyncConflict.objects.get_or_create(
        choice=choice, field="", status=PlanSyncConflict.Status.OPEN, defaults={"kind": PlanSyncConflict.Kind.REMOVED, "remote_value": why}
    )


def plans_to_ams(client: BenefitPointClient, product_ids: set[int]) -> int:
    """AMS policies (through ``ams``'s service) for the plans among ``product_ids`` (and any an earlier pass began)
    added there after their account was linked to an AMS customer's group; returns how many were added.

    Intent first: the plan's local copy is claimed (``ams_insert_started_at``, committed) before ``ams`` is asked,
    so a later pass after a lost answer has it look the policy up instead of inserting again. Then the PolicyId is
    kept here and stamped on the plan there (``policyIntegrationInfo.amsPolicyID``). An AMS failure leaves the
    plan for the next pass."""
    links = ams_account_links()
    if not links:
        return 0
    pending = Q(product_id__in=product_ids) | Q(ams_insert_started_at__isnull=False)  # + an earlier attempt's
    remotes = [
        r
        for r in RemotePlan.objects.filter(pending, account_id__in=list(links), ams_policy_id="")
        if not (r.data.get("policyIntegrationInfo") or {}).get("amsPolicyID")
        and (parse_datetime(r.data.get("createdOn") or "") or timezone.now()) >= links[r.account_id].created_at
    ]
    if not remotes:
        return 0
    added = 0
    ams = ams360_client()
    for remote in remotes:
        first = RemotePlan.objects.filter(pk=remote.pk, ams_insert_started_at__isnull=True).update(ams_insert_started_at=timezone.now())
        try:
            policy_id = group_policy_add(
                group=links[remote.account_id].group,
                plan={**remote.data, "productID": remote.product_id},
                record=remote,
                retried=not first,
                client=ams,
            )
        except IntegrationError:
            continue
        RemotePlan.objects.filter(pk=remote.pk).update(ams_policy_id=policy_id)
        remote.ams_policy_id = policy_id
        try:
            client.update_product({"productID": remote.product_id, "policyIntegrationInfo": {"amsPolicyID": policy_id}})
        except IntegrationError as exc:
            row = external_id_of(remote, system=System.AMS, object_type="policy")
            if row is not None:
                external_id_record_sync(row=row, ok=False, reason=f"amsPolicyID not stamped there: {exc.message}")
        added += 1
    return added
