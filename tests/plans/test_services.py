import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from accounts.models import AuditLog
from plans.models import EmployerGroup, Plan, PlanRate
from plans.selectors import plan_renewal_chain
from plans.services import employer_group_create, employer_group_update, plan_create, plan_renew, plan_update
from tests.plans.factories import CarrierFactory, EmployerGroupFactory, PlanFactory, tier_rates

pytestmark = pytest.mark.django_db


def _plan_fields(**overrides):
    fields = {
        "group": EmployerGroupFactory(),
        "carrier": CarrierFactory(),
        "line_of_coverage": "medical",
        "name": "Silver HMO",
        "plan_type": "hmo",
        "effective_date": datetime.date(2026, 1, 1),
        "renewal_date": datetime.date(2027, 1, 1),
    }
    return {**fields, **overrides}


def _errors(call) -> dict:
    with pytest.raises(ValidationError) as exc:
        call()
    return exc.value.message_dict


def test_plan_create_writes_the_plan_and_its_four_rates(agency_admin):
    plan = plan_create(actor=agency_admin, rates=tier_rates(), **_plan_fields())
    assert plan.version == 1
    assert sorted(plan.rates.values_list("tier", flat=True)) == sorted(PlanRate.Tier.values)
    assert AuditLog.objects.filter(object_id=str(plan.pk), action="create").exists()


@pytest.mark.parametrize(
    ("overrides", "rates", "field", "words"),
    [
        ({"renewal_date": datetime.date(2025, 12, 1)}, tier_rates(), "renewal_date", "after the effective date"),
        ({}, tier_rates(family="-5"), "rates", "can't be negative"),
        ({}, tier_rates()[:3], "rates", "missing: Family"),
        ({"benefit_summary": {"annual_maximum": 1000}}, tier_rates(), "benefit_summary", "does not apply"),
        ({"benefit_summary": {"coinsurance": 120}}, tier_rates(), "benefit_summary", "at most 100"),
    ],
)
def test_bad_plans_are_field_errors_and_write_nothing(overrides, rates, field, words):
    fields = _plan_fields(**overrides)
    errors = _errors(lambda: plan_create(actor=None, rates=rates, **fields))
    assert words in " ".join(errors[field])
    assert not Plan.objects.exists() and not PlanRate.objects.exists()


def test_a_plan_with_an_inactive_carrier_is_refused():
    fields = _plan_fields(carrier=CarrierFactory(active=False))
    errors = _errors(lambda: plan_create(actor=None, rates=tier_rates(), **fields))
    assert "inactive" in errors["carrier"][0]
    assert not Plan.objects.exists()


def test_a_plan_keeps_a_carrier_that_became_inactive_later():
    plan = PlanFactory()
    plan.carrier.active = False
    plan.carrier.save()
    plan = plan_update(actor=None, plan=plan, data={"name": "Renamed"})
    assert plan.name == "Renamed"


def test_age_banded_rates_must_not_overlap():
    fields = _plan_fields(line_of_coverage="life", plan_type="term", rate_basis="age_banded", benefit_summary={})
    bands = [{"age_min": 18, "age_max": 39, "monthly_rate": "10"}, {"age_min": 30, "age_max": 49, "monthly_rate": "20"}]
    assert "overlap" in _errors(lambda: plan_create(actor=None, rates=bands, **fields))["rates"][0]
    bands[1]["age_min"] = 40
    assert plan_create(actor=None, rates=bands, **fields).rates.count() == 2


def test_duplicate_account_number_is_a_field_error():
    EmployerGroupFactory(account_number="EG-1")
    errors = _errors(lambda: employer_group_create(actor=None, name="Other", account_number="EG-1"))
    assert "account_number" in errors
    assert EmployerGroup.objects.count() == 1


def test_group_update_replaces_contacts_all_or_nothing():
    group = employer_group_create(actor=None, name="Acme", account_number="EG-2", contacts=[{"name": "Ann HR", "is_primary": True}])
    errors = _errors(lambda: employer_group_update(actor=None, group=group, data={"name": "Acme Inc"}, contacts=[{"name": "", "email": "bad"}]))
    assert "contacts" in errors
    group.refresh_from_db()
    assert group.name == "Acme" and [c.name for c in group.contacts.all()] == ["Ann HR"]


def test_version_bumps_on_every_change_and_only_then():
    plan = PlanFactory()
    plan = plan_update(actor=None, plan=plan, data={"name": plan.name})
    assert plan.version == 1
    plan = plan_update(actor=None, plan=plan, data={"policy_number": "P-77"})
    assert plan.version == 2
    plan = plan_update(actor=None, plan=plan, data={}, rates=tier_rates(employee="600"))
    assert plan.version == 3
    assert plan.rates.get(tier="employee").monthly_rate == Decimal("600")


def test_failed_update_keeps_plan_and_rates():
    plan = PlanFactory()
    with pytest.raises(ValidationError):
        plan_update(actor=None, plan=plan, data={"name": "New"}, rates=tier_rates()[:2])
    plan.refresh_from_db()
    assert plan.name != "New" and plan.version == 1 and plan.rates.count() == 4


def test_renewal_chain(agency_admin):
    first = PlanFactory()
    second = plan_renew(actor=agency_admin, plan=first, rate_change_percent=10)
    third = plan_renew(actor=agency_admin, plan=second)

    assert second.renewed_from == first and third.renewed_from == second
    assert (second.effective_date, second.renewal_date) == (datetime.date(2027, 1, 1), datetime.date(2028, 1, 1))
    assert second.rates.get(tier="employee").monthly_rate == Decimal("563.64")  # 512.40 + 10%
    assert second.benefit_summary == first.benefit_summary and second.carrier == first.carrier
    first.refresh_from_db()
    assert first.status == Plan.Status.RENEWED and first.version == 2
    assert plan_renewal_chain(plan=second) == [first, second, third]
    # a plan year renews once: renewing it again is refused and writes nothing
    assert "renewed already" in _errors(lambda: plan_renew(actor=agency_admin, plan=first))["renewed_from"][0]
    assert Plan.objects.count() == 3


def test_renewing_with_an_inactive_carrier_is_refused():
    plan = PlanFactory()
    plan.carrier.active = False
    plan.carrier.save()
    assert "carrier" in _errors(lambda: plan_renew(actor=None, plan=plan))
    assert Plan.objects.count() == 1
