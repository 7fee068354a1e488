import datetime
from decimal import Decimal

import factory

from plans.models import Carrier, EmployerGroup, Plan, PlanRate


class CarrierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Carrier

    name = factory.Sequence(lambda n: f"Test Carrier {n}")
    code = factory.Sequence(lambda n: f"test-carrier-{n}")


class EmployerGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmployerGroup
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Acme Widgets {n}")
    account_number = factory.Sequence(lambda n: f"T-{n:05d}")
    renewal_month = 1
    employee_count = 40


class PlanFactory(factory.django.DjangoModelFactory):
    """A medical plan for 2026 with all four tier rates (pass ``rates=None`` for none)."""

    class Meta:
        model = Plan
        skip_postgeneration_save = True

    group = factory.SubFactory(EmployerGroupFactory)
    carrier = factory.SubFactory(CarrierFactory)
    line_of_coverage = Plan.Line.MEDICAL
    name = factory.Sequence(lambda n: f"Gold PPO {n}")
    plan_type = Plan.PlanType.PPO
    effective_date = datetime.date(2026, 1, 1)
    renewal_date = datetime.date(2027, 1, 1)
    benefit_summary = factory.LazyFunction(lambda: {"deductible_individual": 1500, "coinsurance": 20, "copays": {"primary_care": 25}})

    @factory.post_generation
    def rates(plan, create, extracted, **kwargs):
        if not create or plan.rate_basis != Plan.RateBasis.TIERED or extracted is False:
            return
        amounts = extracted or {"employee": "512.40", "employee_spouse": "1076.04", "employee_children": "922.32", "family": "1485.96"}
        PlanRate.objects.bulk_create(PlanRate(plan=plan, tier=t, monthly_rate=Decimal(a)) for t, a in amounts.items())


def tier_rates(employee="500", spouse="1000", children="900", family="1400") -> list[dict]:
    return [
        {"tier": "employee", "monthly_rate": Decimal(employee)},
        {"tier": "employee_spouse", "monthly_rate": Decimal(spouse)},
        {"tier": "employee_children", "monthly_rate": Decimal(children)},
        {"tier": "family", "monthly_rate": Decimal(family)},
    ]
