"""Which agency-system customers match the back office's demo records: by id, never by name.

Plain data (both the sandbox and ``ams/demo.py`` import it): the sandbox seeds customers with these
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
