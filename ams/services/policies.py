"""A group plan another system holds (a benefits-admin plan) becomes an AMS policy of the group's customer, once.

Only ``ams`` writes to the AMS: plansync asks here (``group_policy_add``) for a plan added in the
benefits-admin system for a group the AMS owns. The AMS has no idempotency key: the caller records
its intent before asking (``retried`` on a later try), and a retried add first looks the policy up
(the customer's policies with the policy number and effective date we send, not yet in the
registry) instead of inserting again. The new ``PolicyId`` is linked in the external-id registry to
the caller's local record. The AMS call happens outside any database transaction.
"""

from django.db import models

from accounts.models import AuditLog
from accounts.services import audit
from integrations.clients.ams360 import Ams360Client, ams360_client
from integrations.registry import System, external_id_find, external_id_link, external_id_of

STATUSES = {"Pending": "Pending", "Current": "Active", "Cancelled": "Cancelled", "Expired": "Expired"}  # productStatus -> AMS


def group_policy_values(customer_id: str, plan: dict) -> dict:
    """The AMS policy for a benefits-admin plan (``productID``, ``policyNumber``, ``productStatus``, ...)."""
    return {
        "CustomerId": customer_id,
        "PolicyNumber": plan.get("policyNumber") or f"BA-{plan['productID']}",
        "TypeOfBusiness": "New",
        "PolicyType": "GRPBEN",
        "PolicyStatus": STATUSES.get(plan.get("productStatus"), "Active"),
        "PolicyEffectiveDate": plan.get("effectiveAsOf"),
        "PolicyExpirationDate": plan.get("renewalOn"),
        "BillMethod": "Agency" if plan.get("billingType") == "Agency_Bill" else "Direct",
    }


def _sent_before(ams: Ams360Client, policy: dict) -> str | None:
    """The policy an earlier try inserted (its answer lost), or ``None``."""
    for found in ams.policies(policy["CustomerId"]):
        if (found.get("PolicyNumber"), str(found.get("PolicyEffectiveDate") or "")[:10]) == (
            policy["PolicyNumber"],
            str(policy["PolicyEffectiveDate"] or "")[:10],
        ) and external_id_find(system=System.AMS, object_type="policy", external_id=found["PolicyId"]) is None:
            return found["PolicyId"]
    return None


def group_policy_add(*, group: models.Model, plan: dict, record: models.Model, retried: bool, client: Ams360Client | None = None) -> str:
    """Add ``plan`` (a benefits-admin product) as an AMS policy of ``group``'s AMS customer; returns its PolicyId.

    ``retried``: an earlier try may have inserted it and lost the answer, so it is looked up first.
    The PolicyId is linked to ``record`` in the registry and the addition audited. Raises
    ``IntegrationError`` when the AMS fails (nothing recorded: the caller tries again later) and
    ``ValueError`` when ``group`` has no AMS customer. Call it outside any transaction.
    """
    customer = external_id_of(group, system=System.AMS, object_type="customer")
    if customer is None:
        raise ValueError(f"{group} is no AMS customer")
    ams = client or ams360_client()
    policy = group_policy_values(customer.external_id, plan)
    policy_id = (_sent_before(ams, policy) if retried else None) or ams.policy_insert(policy)
    external_id_link(obj=record, system=System.AMS, object_type="policy", external_id=policy_id)
    audit(
        actor=None,
        action=AuditLog.Action.SYNC,
        obj=record,
        summary=f"Plan {plan['productID']} added in the benefits-admin system became AMS policy {policy_id} of customer {customer.external_id}",
    )
    return policy_id
