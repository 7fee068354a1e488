"""A plan added in the benefits-admin system for an AMS customer's account becomes an AMS policy, once.

The AMS has no idempotency key: the plan's local copy (``RemotePlan``) is claimed before the insert,
so a pass after a lost answer looks the policy up (the customer's policies with the policy number and
effective date we sent, not yet in the registry) instead of inserting again. The new ``PolicyId`` is
linked in the registry and stamped on the plan there (``policyIntegrationInfo.amsPolicyID``).
"""
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import AuditLog
from accounts.services import audit
from integrations.clients.ams360 import ams360_client
from integrations.clients.benefitpoint import BenefitPointClient
from integrations.http import IntegrationError
from integrations.models import ExternalId
from integrations.registry import System, external_id_find, external_id_link, external_id_of

from ..models import RemotePlan
from .accounts import ams_account_links

STATUSES = {"Pending": "Pending", "Current": "Active", "Cancelled": "Cancelled", "Expired": "Expired"}  # productStatus -> AMS


def _policy(customer_id: str, product: dict) -> dict:
    return {"CustomerId": customer_id, "PolicyNumber": product.get("policyNumber") or f"BA-{product['productID']}",
            "TypeOfBusiness": "New", "PolicyType": "GRPBEN", "PolicyStatus": STATUSES.get(product.get("productStatus"), "Active"),
            "PolicyEffectiveDate": product.get("effectiveAsOf"), "PolicyExpirationDate": product.get("renewalOn"),
            "BillMethod": "Agency" if product.get("billingType") == "Agency_Bill" else "Direct"}


def _sent_before(ams, policy: dict) -> str | None:
    """The policy an earlier attempt inserted (its answer lost), or ``None``."""
    for found in ams.policies(policy["CustomerId"]):
        if (found.get("PolicyNumber"), str(found.get("PolicyEffectiveDate") or "")[:10]) == \
                (policy["PolicyNumber"], str(policy["PolicyEffectiveDate"] or "")[:10]) \
                and external_id_find(system=System.AMS, object_type="policy", external_id=found["PolicyId"]) is None:
            return found["PolicyId"]
    return None


def plans_to_ams(client: BenefitPointClient, product_ids: set[int]) -> int:
    """AMS policies for the plans among ``product_ids`` (and any an earlier pass began) added there after their account was linked to an AMS
    customer's group; returns how many were added. An AMS failure leaves the plan for the next pass."""
    links = ams_account_links()
    if not links:
        return 0
    pending = Q(product_id__in=product_ids) | Q(ams_insert_started_at__isnull=False)  # + an earlier attempt's
    remotes = [r for r in RemotePlan.objects.filter(pending, account_id__in=list(links), ams_policy_id="")
               if not (r.data.get("policyIntegrationInfo") or {}).get("amsPolicyID")
               and (parse_datetime(r.data.get("createdOn") or "") or timezone.now()) >= links[r.account_id].created_at]
    if not remotes:
        return 0
    added = 0
    ams = ams360_client()
    for remote in remotes:
        link = links[remote.account_id]
        customer = external_id_of(link.group, system=System.AMS, object_type="customer")
        policy = _policy(customer.external_id, {**remote.data, "productID": remote.product_id})
        first = RemotePlan.objects.filter(pk=remote.pk, ams_insert_started_at__isnull=True).update(ams_insert_started_at=timezone.now())
        try:
            policy_id = (None if first else _sent_before(ams, policy)) or ams.policy_insert(policy)
        except IntegrationError:
            continue
        RemotePlan.objects.filter(pk=remote.pk).update(ams_policy_id=policy_id)
        remote.ams_policy_id = policy_id
        row = external_id_link(obj=remote, system=System.AMS, object_type="policy", external_id=policy_id)
        try:
            client.update_product({"productID": remote.product_id, "policyIntegrationInfo": {"amsPolicyID": policy_id}})
        except IntegrationError as exc:
            ExternalId.objects.filter(pk=row.pk).update(last_sync_reason=f"amsPolicyID not stamped there: {exc.message}")
        audit(actor=None, action=AuditLog.Action.SYNC, obj=remote,
              summary=f"Plan {remote.product_id} added in the benefits-admin system became AMS policy {policy_id} "
                      f"of customer {customer.external_id}")
        added += 1
    return added
