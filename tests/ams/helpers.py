"""What a test compares: the AMS as it is now against AgencyDesk and the CRM."""

from ams import mapping
from ams.services.reconcile import PREFIXES
from ams.services.sync import _local_contacts, carriers
from integrations.clients.ams360 import ams360_client
from integrations.registry import external_id_lookup


def ams_customers() -> list[dict]:
    client = ams360_client()
    found = {}
    for prefix in PREFIXES:
        for customer in client.customers_by_name_prefix(prefix):
            found[customer["CustomerId"]] = customer
    return list(found.values())


def differences() -> list[str]:
    """Every AMS customer whose AgencyDesk copy is missing or differs (fields, contacts, policies)."""
    client, carrier_map = ams360_client(), carriers()
    out = []
    for customer in ams_customers():
        local = external_id_lookup(system="ams", object_type="customer", external_id=customer["CustomerId"])
        if local is None:
            out.append(f"{customer['CustomerId']} missing")
            continue
        if mapping.is_commercial(customer):
            values = mapping.group_values(customer)
            if _local_contacts(local) != mapping.contact_values(client.contacts(customer["CustomerId"])):
                out.append(f"{customer['CustomerId']} contacts differ")
        else:
            values = mapping.individual_values(customer)
            for policy in client.policies(customer["CustomerId"]):
                mine = external_id_lookup(system="ams", object_type="policy", external_id=policy["PolicyId"])
                wanted = {**mapping.policy_values(policy, carrier_map), "individual": local}
                if mine is None or any(getattr(mine, k) != v for k, v in wanted.items()):
                    out.append(f"policy {policy['PolicyId']} differs")
        if any(getattr(local, k) != v for k, v in values.items()):
            out.append(f"{customer['CustomerId']} differs")
    return out
