import datetime
import uuid

from carriers.management.commands.carriers_sandbox_seed import sandbox_roster
from integrations.registry import System, external_id_link
from tests.hrsync.factories import BenefitsLevelFactory, EmployeeFactory
from tests.plans.factories import CarrierFactory, EmployerGroupFactory, PlanFactory

__all__ = ["CarrierFactory", "EmployeeFactory", "EmployerGroupFactory", "PlanFactory", "connected_group", "roster"]


def connected_group(*, members: int = 20, carrier_id: str | None = None):
    """An employer group with ``members`` employees (half Standard, half Premium), a medical plan, and a
    carrier that has an id at the carrier-connection service."""
    group = EmployerGroupFactory(federal_ein="12-3456789")
    carrier = CarrierFactory()
    external_id_link(obj=carrier, system=System.CARRIER_EXCHANGE, object_type="carrier", external_id=carrier_id or str(uuid.uuid4()))
    standard = BenefitsLevelFactory(name="Standard")
    premium = BenefitsLevelFactory(name="Premium", package_code="PREMIUM")
    for n in range(members):
        EmployeeFactory(
            employer_group=group, benefits_level=premium if n % 2 else standard, hire_date=datetime.date(2020, 1, 1) + datetime.timedelta(days=n)
        )
    PlanFactory(group=group, carrier=carrier)
    return group, carrier


def roster(group, carrier, carrier_group_id: str, *, share: float = 0.0, seed: int = 1, script: dict | None = None) -> dict:
    """What a test seeds into the sandbox (the same seed ``manage.py carriers_sandbox_seed`` sends)."""
    return sandbox_roster(group, carrier, carrier_group_id, share=share, seed=seed, script=script)
