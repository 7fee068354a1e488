import datetime
from decimal import Decimal

import factory

from plans.models import Carrier, Plan
from plansync.services import Row, account_import, plan_choices_save, plan_sync_pass
from tests.plans.factories import PlanFactory


class SyncedPlanFactory(PlanFactory):
    """A 2026 medical plan on a seeded carrier the benefits-admin system knows (UnitedHealthcare)."""

    carrier = factory.LazyFunction(lambda: Carrier.objects.get(code="uhc"))
    billing_type = Plan.BillingType.LIST_BILL
    effective_date = datetime.date(2026, 1, 1)
    renewal_date = datetime.date(2027, 1, 1)
    benefit_summary = factory.LazyFunction(lambda: {"deductible_individual": 1500, "coinsurance": 20})


def import_account(account_id: int, actor=None, group=None):
    return account_import(actor=actor, account_id=account_id, group=group)


def choose(link, *rows: Row):
    return plan_choices_save(actor=None, link=link, rows=list(rows))


def sync(link, actor=None):
    """One "Sync now" pass for the group; returns its run."""
    (run,) = plan_sync_pass(trigger="manual", actor=actor, link_ids=[link.pk])
    return run


def money(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))
