"""Demo links: the first demo employer groups and individuals are customers of the sandbox's AMS, by id.

The sandbox seeds its own book of business (``sandbox/ams_demo.py``): among them, customers with fixed
GUIDs for the back office's first ten demo employer groups and first twenty demo individuals. Those
GUIDs are a contract between the two, like an agency's own list of its customer ids; this module holds
our side of it (the apps never import the sandbox; a test checks both sides agree). Linking here
(never by name) lets the first reconciliation bring their AMS data in, and every other AMS customer with them.
"""

import uuid

from django.core.exceptions import ValidationError

from individuals.models import Individual
from integrations.registry import external_id_find, external_id_link
from plans.models import EmployerGroup

from .mapping import CUSTOMER, SYSTEM

NAMESPACE = uuid.UUID("6f1c2a8e-0c1b-4b5e-9a47-3d0e5b2f8a11")  # the GUIDs' namespace (uuid5)
DEMO_GROUPS = [f"EG-{1000 + n}" for n in range(1, 11)]  # plans/demo.py's first ten employer groups
DEMO_PEOPLE = 20  # the first twenty demo individuals, by id


def group_customer_id(account_number: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"group:{account_number}"))


def person_customer_id(n: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"person:{n}"))


def load(stdout) -> None:
    linked = 0
    pairs = [(g, group_customer_id(g.account_number)) for g in EmployerGroup.objects.filter(account_number__in=DEMO_GROUPS)]
    pairs += [(person, person_customer_id(n)) for n, person in enumerate(Individual.objects.order_by("pk")[:DEMO_PEOPLE], 1)]
    for record, customer_id in pairs:
        if external_id_find(system=SYSTEM, object_type=CUSTOMER, external_id=customer_id) is not None:
            continue
        try:
            external_id_link(obj=record, system=SYSTEM, object_type=CUSTOMER, external_id=customer_id)
            linked += 1
        except ValidationError:
            continue  # already linked to another customer: leave it
    stdout.write(f"AMS: {linked} demo records linked to agency-system customers by id (Reconcile now brings them in)")
