"""Demo data for carrier connections: every active carrier gets its id at the carrier-connection service
(idempotent), so *Connect a carrier* offers them by name on a fresh ``bin/run``.

The sandbox's service takes any carrier id; the ids are derived from the carrier's code, so they are the
same on every machine. A real agency records the ids its service gives (via the API's ``noyo_carrier_id``
or the external-id registry).
"""

import uuid

from integrations.registry import System, external_id_link, external_ids_for
from plans.models import Carrier

NAMESPACE = uuid.UUID("0b7f3c52-3f0e-4c55-9d0c-5a4f1e2d9b61")


def demo_carrier_id(carrier: Carrier) -> str:
    return str(uuid.uuid5(NAMESPACE, f"carrier:{carrier.code}"))


def load(stdout) -> None:
    added = 0
    for carrier in Carrier.objects.filter(active=True).order_by("pk"):
        if System.CARRIER_EXCHANGE in external_ids_for(carrier):
            continue
        external_id_link(obj=carrier, system=System.CARRIER_EXCHANGE, object_type="carrier", external_id=demo_carrier_id(carrier))
        added += 1
    stdout.write(f"carriers: {added} carriers given their id at the carrier-connection service")
