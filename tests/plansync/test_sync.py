"""The two-way plan sync against the sandbox's benefits-admin system over SOAP (real HTTP)."""

import datetime

import pytest

from plans.models import Plan
from plans.services import plan_renew, plan_update
from plansync.models import PlanChoice, PlanSyncConflict, PlanSyncItem, PlanSyncRun, Side
from plansync.services import Row, conflict_resolve
from tests.plansync.factories import SyncedPlanFactory, choose, import_account, money, sync

pytestmark = pytest.mark.django_db(transaction=False)
LOCAL, THERE = Side.AGENCYDESK, Side.BENEFITS_ADMIN


def _current(benefitpoint, account_id, type_id=101):
    """The account's current product of a type (the seed's medical plan is first)."""
    return next(p for p in benefitpoint.products(accountID=account_id) if p["productTypeID"] == type_id and p["productStatus"] == "Current")


def _linked(benefitpoint, account_id=40002, **truths):
    """An imported group with a local plan linked to the account's medical plan and synced once."""
    link = import_account(account_id)
    plan = SyncedPlanFactory(group=link.group, name="Our Gold PPO")
    product = _current(benefitpoint, account_id)
    choose(link, Row(plan=plan, product_id=product["productID"], choice="link", **truths))
    run = sync(link)
    assert run.status == PlanSyncRun.Status.SUCCEEDED, list(run.items.values_list("reason", flat=True))
    plan.refresh_from_db()
    return link, plan, product["productID"]


def test_import_by_account_id_creates_the_group_and_a_second_link_is_refused(benefitpoint):
    from django.core.exceptions import ValidationError

    link = import_account(40002)
    group = link.group
    assert group.name == "Pioneer Dental Group PLLC"
    assert group.account_number == "BA-40002"
    assert group.federal_ein and group.addresses.get().city
    assert group.contacts.filter(is_primary=True).get().name  # "First Last" from the two names there
    with pytest.raises(ValidationError) as refused:
        import_account(40002)
    assert "already linked to Pioneer Dental Group PLLC" in str(refused.value)
    assert f"/admin/plans/employergroup/{group.pk}/change/" in str(refused.value)


def test_import_of_an_account_lacking_service_info_is_refused_with_the_reason(benefitpoint):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="required Service Info fields missing"):
        import_account(40048)


def test_link_with_truth_per_category_merges_both_ways(benefitpoint):
    # given: details and rates from there, benefits from AgencyDesk
    link, plan, product_id = _linked(benefitpoint, truth_details=THERE, truth_benefits=LOCAL, truth_rates=THERE)
    there = benefitpoint.product(product_id)
    # then: our plan took the name, dates and rates; the benefits went there
    assert plan.name == there["name"] != "Our Gold PPO"
    assert {r.tier: r.monthly_rate for r in plan.rates.all()}["employee"] == money(there["rates"][0]["rateTiers"][0]["monthlyPremium"])
    assert {b["attribute"]: b["value"] for b in there["benefitSummary"]} == {"coinsurance": "20", "deductible_individual": "1500"}
    item = PlanSyncItem.objects.get(choice__plan=plan)
    assert {c["direction"] for c in item.changes} == {"to AgencyDesk", "to the benefits-admin system"}


def test_link_with_agencydesk_as_truth_overwrites_the_other_side(benefitpoint):
    link, plan, product_id = _linked(benefitpoint, truth_details=LOCAL, truth_benefits=LOCAL, truth_rates=LOCAL)
    there = benefitpoint.product(product_id)
    assert there["name"] == "Our Gold PPO"
    assert {t["description"]: t["monthlyPremium"] for t in there["rates"][0]["rateTiers"]} == {
        "Employee Only": "512.40",
        "Employee + Spouse": "1076.04",
        "Employee + Child(ren)": "922.32",
        "Family": "1485.96",
    }


def test_a_change_on_either_side_arrives_on_the_other_within_one_run(benefitpoint):
    link, plan, product_id = _linked(benefitpoint)
    # far side edits the policy number; we edit the renewal date
    benefitpoint.edit(product_id, policyNumber="NEW-POLICY-1")
    plan_update(actor=None, plan=plan, data={"renewal_date": datetime.date(2027, 3, 1)})
    run = sync(link)
    plan.refresh_from_db()
    assert plan.policy_number == "NEW-POLICY-1"
    assert benefitpoint.product(product_id)["renewalOn"] == "2027-03-01"
    assert run.status == PlanSyncRun.Status.SUCCEEDED
    # our own write coming back is recognised: the next run changes nothing
    again = sync(link)
    assert not any(i.changes for i in again.items.all())


def test_both_sides_changed_make_one_conflict_and_nothing_is_overwritten(benefitpoint, django_capture_on_commit_callbacks):
    link, plan, product_id = _linked(benefitpoint)
    benefitpoint.edit(product_id, name="Their new name")
    plan_update(actor=None, plan=plan, data={"name": "Our new name"})
    sync(link)
    conflict = PlanSyncConflict.objects.get(status="open")
    assert (conflict.field, conflict.local_value, conflict.remote_value) == ("name", "Our new name", "Their new name")
    plan.refresh_from_db()
    assert plan.name == "Our new name" and benefitpoint.product(product_id)["name"] == "Their new name"
    sync(link)  # still nothing overwritten, still one conflict
    assert PlanSyncConflict.objects.filter(status="open").count() == 1
    # resolving with AgencyDesk's value writes it there
    with django_capture_on_commit_callbacks(execute=True):
        conflict_resolve(actor=None, conflict=conflict, resolution="agencydesk")
    assert benefitpoint.product(product_id)["name"] == "Our new name"


def test_a_plan_deleted_or_cancelled_there_is_flagged(benefitpoint):
    link, plan, product_id = _linked(benefitpoint)
    benefitpoint.delete(product_id)
    sync(link)
    choice = PlanChoice.objects.get(plan=plan)
    assert choice.state == PlanChoice.State.REMOVED_THERE
    conflict = PlanSyncConflict.objects.get(choice=choice, kind="removed")
    conflict_resolve(actor=None, conflict=conflict, resolution="archive")
    plan.refresh_from_db()
    assert plan.status == Plan.Status.CANCELLED


def test_renewals_follow_the_chain_both_ways(benefitpoint):
    link, plan, product_id = _linked(benefitpoint)
    # here -> there: renewing our plan creates the renewal there, its parentProductID the linked product
    renewal = plan_renew(actor=None, plan=plan)
    sync(link)
    created = PlanChoice.objects.get(plan=renewal).product_id
    assert benefitpoint.product(created)["parentProductID"] == product_id
    # there -> here: a product renewing a linked one arrives as the renewal of our plan
    later = benefitpoint.add(
        accountID=40002,
        productTypeID=101,
        productStatus="Pending",
        name="Next year PPO",
        carrierID=2001,
        effectiveAsOf="2028-01-01",
        renewalOn="2029-01-01",
        billingType="Agency_Bill",
        parentProductID=created,
        rateTiers=[{"description": d, "monthlyPremium": "600.00"} for d in ("Employee Only", "Employee + Spouse", "Employee + Child(ren)", "Family")],
    )
    sync(link)
    here = PlanChoice.objects.get(product_id=later).plan
    assert here.renewed_from == renewal and here.name == "Next year PPO"


def test_two_plans_with_the_same_name_stay_separate(benefitpoint):
    link = import_account(40004)
    products = [p for p in benefitpoint.products(accountID=40004) if p["productStatus"] == "Current"]
    names = [p["name"] for p in products]
    same = [p for p in products if names.count(p["name"]) == 2][:2]
    assert len(same) == 2 and same[0]["name"] == same[1]["name"]
    choose(link, *[Row(plan=None, product_id=p["productID"], choice="create_there") for p in same])
    sync(link)
    plans = Plan.objects.filter(group=link.group, name=same[0]["name"])
    assert plans.count() == 2
    assert {p.policy_number for p in plans} == {s["policyNumber"] for s in same}


def test_a_lost_create_response_makes_no_duplicate(benefitpoint):
    link = import_account(40002)
    plan = SyncedPlanFactory(group=link.group, name="Created from here")
    choose(link, Row(plan=plan, product_id=None, choice="create_there"))
    benefitpoint.knobs(lost_create_rate=1.0)
    run = sync(link)
    benefitpoint.knobs(lost_create_rate=0.0)
    assert len(benefitpoint.products(alternativePlanID=f"AgencyDesk-plan-{plan.pk}")) == 1
    assert run.items.get().status == "succeeded"


def test_an_expired_session_mid_run_logs_in_again(benefitpoint):
    link = import_account(40002)
    plans = [SyncedPlanFactory(group=link.group, name=f"Plan {n}") for n in range(3)]
    choose(link, *[Row(plan=p, product_id=None, choice="create_there") for p in plans])
    benefitpoint.knobs(session_expire_after_calls=3)
    run = sync(link)
    assert run.status == PlanSyncRun.Status.SUCCEEDED
    assert all(len(benefitpoint.products(alternativePlanID=f"AgencyDesk-plan-{p.pk}")) == 1 for p in plans)


def test_faults_end_every_plan_settled_without_duplicates_and_the_next_run_completes(benefitpoint, settings):
    settings.INTEGRATIONS_RETRY_ATTEMPTS = 2
    link = import_account(40002)
    plans = [SyncedPlanFactory(group=link.group, name=f"Fault plan {n}") for n in range(8)]
    choose(link, *[Row(plan=p, product_id=None, choice="create_there") for p in plans])
    benefitpoint.knobs(error_rate=0.2)
    run = sync(link)
    assert set(run.items.values_list("status", flat=True)) <= {"succeeded", "failed"}
    benefitpoint.knobs(error_rate=0.0)
    sync(link)
    for plan in plans:
        assert len(benefitpoint.products(alternativePlanID=f"AgencyDesk-plan-{plan.pk}")) == 1
    assert set(PlanChoice.objects.filter(plan__in=plans).values_list("state", flat=True)) == {"synced"}


def test_an_unmappable_value_fails_that_plan_with_the_reason(benefitpoint):
    link = import_account(40002)
    plan = SyncedPlanFactory(group=link.group, billing_type=Plan.BillingType.SELF_BILL)
    choose(link, Row(plan=plan, product_id=None, choice="create_there"))
    item = sync(link).items.get()
    assert item.status == "failed" and "Self bill" in item.reason
