"""Demo links: the first demo employer groups and individuals are customers of the sandbox's AMS, by id.

The sandbox seeds those customers with the GUIDs in ``sandbox/ams_demo.py``; linking here (never by
name) lets the first reconciliation bring their AMS data in, and every other AMS customer with them.
"""
from django.core.exceptions import ValidationError

from individuals.models import Individual
from integrations.registry import external_id_find, external_id_link
from plans.models import EmployerGroup
from sandbox import ams_demo

from .mapping import CUSTOMER, SYSTEM


def load(stdout) -> None:
    linked = 0
    pairs = [(g, ams_demo.group_customer_id(g.account_number))
             for g in EmployerGroup.objects.filter(account_number__in=ams_demo.DEMO_GROUPS)]
    pairs += [(person, ams_demo.person_customer_id(n))
              for n, person in enumerate(Individual.objects.order_by("pk")[:ams_demo.DEMO_PEOPLE], 1)]
    for record, customer_id in pairs:
        if external_id_find(system=SYSTEM, object_type=CUSTOMER, external_id=customer_id) is not None:
            continue
        try:
            external_id_link(obj=record, system=SYSTEM, object_type=CUSTOMER, external_id=customer_id)
            linked += 1
        except ValidationError:
            continue  # already linked to another customer: leave it
    stdout.write(f"AMS: {linked} demo records linked to agency-system customers by id (Reconcile now brings them in)")
