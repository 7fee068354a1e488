"""Which agency-system customers match the back office's demo records: by id, never by name.

The sandbox's own seed data (nothing in the back office imports it): the sandbox seeds customers with these
GUIDs, and the back office's demo links its records to them in the external-id registry.
"""

import uuid

NAMESPACE = uuid.UUID("6f1c2a8e-0c1b-4b5e-9a47-3d0e5b2f8a11")
DEMO_GROUPS = [f"EG-{1000 + n}" for n in range(1, 11)]  # plans/demo.py's first ten employer groups
DEMO_PEOPLE = 20  # the first twenty demo individuals, by id


def group_customer_id(account_number: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"group:{account_number}"))


def person_customer_id(n: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"person:{n}"))


def group_customer_number(account_number: str) -> int:
    """The seeded AMS customer number of a demo group: every fifth customer is commercial, and the first
    ten commercial ones are the demo groups (``sandbox/ams360.py`` seeds them in that order)."""
    return 5 * (DEMO_GROUPS.index(account_number) + 1)


# Benefits-admin accounts (sandbox/benefitpoint) that exist in the AMS too: accountID -> demo group.
# They carry that customer's ``amsCustomerId`` / ``amsCustomerNumber``; the others carry none.
BENEFITS_ADMIN_ACCOUNTS = {40001 + k: DEMO_GROUPS[k] for k in range(5)}
