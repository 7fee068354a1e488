import datetime
import uuid

from hrsync.models import Employee
from integrations.registry import System, external_id_link
from plans.models import Plan
from tests.hrsync.factories import BenefitsLevelFactory, EmployeeFactory
from tests.plans.factories import CarrierFactory, EmployerGroupFactory, PlanFactory

__all__ = ["CarrierFactory", "EmployeeFactory", "EmployerGroupFactory", "PlanFactory", "connected_group", "roster"]


def connected_group(*, members: int = 20, carrier_id: str | None = None):
    """An employer group with ``members`` employees (half Standard, half Premium), a medical plan, and a
    carrier that has an id at the carrier-connection service."""
    group = EmployerGroupFactory(federal_ein="12-3456789")
    carrier = CarrierFactory()
    external_id_link(obj=carrier, system=System.CARRIER_EXCHANGE, object_type="carrier",
                     external_id=carrier_id or str(uuid.uuid4()))
    standard = BenefitsLevelFactory(name="Standard")
    premium = BenefitsLevelFactory(name="Premium", package_code="PREMIUM")
    for n in range(members):
        EmployeeFactory(employer_group=group, benefits_level=premium if n % 2 else standard,
                        hire_date=datetime.date(2020, 1, 1) + datetime.timedelta(days=n))
    PlanFactory(group=group, carrier=carrier)
    return group, carrier


def roster(group, carrier, carrier_group_id: str, *, share: float = 0.0, seed: int = 1, script: dict | None = None) -> dict:
    """What a test seeds into the sandbox: the group's own employees and plans (AgencyDesk's ids in
    ``custom_individual_id`` / ``custom_plan_id``), with ``share`` of them made to differ."""
    employees = [
        {"custom_individual_id": str(e.uuid), "first_name": e.first_name, "last_name": e.last_name,
         "date_of_birth": e.date_of_birth.isoformat(), "sex": e.gender or "U", "email": e.email,
         "hire_date": e.hire_date.isoformat(), "coverage_tier": e.benefits_level.name if e.benefits_level else ""}
        for e in Employee.objects.filter(employer_group=group, leave_date__isnull=True).select_related("benefits_level").order_by("pk")
    ]
    plans = [{"custom_plan_id": str(p.pk), "name": p.name, "line_of_coverage": p.line_of_coverage,
              "effective_start_date": p.effective_date.isoformat()}
             for p in Plan.objects.filter(group=group, carrier=carrier).order_by("pk")]
    return {"carrier_group_id": carrier_group_id, "group_name": group.name, "federal_ein": group.federal_ein,
            "employees": employees, "plans": plans, "differences": {"share": share, "seed": seed}, "script": script or {}}
