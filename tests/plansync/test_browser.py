"""A person in a real browser: import an account, choose plans, sync, resolve a conflict."""

import pytest
from playwright.sync_api import expect

from plans.models import Carrier, Plan
from plans.services import plan_update
from plansync.mapping import CARRIER_FROM_REMOTE
from plansync.models import PlanChoice, PlanSyncItem


@pytest.mark.browser
def test_import_choose_sync_and_resolve_a_conflict(admin_login, agency_admin, benefitpoint):
    page = admin_login(agency_admin)
    # import: from Employer groups, search by name, import by the account's ID
    page.goto("/admin/plans/employergroup/")
    page.click("text=Import benefits-admin account")
    page.fill("#q", "Pioneer")
    page.click("input[value=Search]")
    page.click("input[value='Import 40002']")
    expect(page.locator(".messagelist .success")).to_contain_text("Imported account 40002 into Pioneer Dental Group PLLC")

    # choose: the account's medical plan is created here; preview first
    medical = next(p for p in benefitpoint.products(accountID=40002) if p["productTypeID"] == 101 and p["productStatus"] == "Current")
    # the seeded carrier it maps to (a flushing test earlier in the session may have removed it)
    code = CARRIER_FROM_REMOTE[medical["carrierID"]]
    Carrier.objects.get_or_create(code=code, defaults={"name": code.title(), "active": True})
    page.select_option(f"select[name=choice-product-{medical['productID']}]", "create_there")
    page.click("input[name=preview]")
    expect(page.locator("#preview")).to_contain_text("Creates the plan in AgencyDesk")
    page.select_option(f"select[name=choice-product-{medical['productID']}]", "create_there")
    page.click("input[name=save]")
    expect(page.locator(".messagelist .success")).to_contain_text("1 plan choice saved")

    # sync now: the run shows the plan Successful
    page.click("input[value='Sync now']")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    assert list(PlanSyncItem.objects.values_list("status", "reason")) == [("succeeded", "")]
    expect(page.locator("#result_list")).to_contain_text("Successful")
    plan = PlanChoice.objects.get(product_id=medical["productID"]).plan
    assert plan.name == medical["name"]

    # both sides change the plan name: a conflict, resolved with the benefits-admin value
    benefitpoint.edit(medical["productID"], name="Their name")
    plan_update(actor=None, plan=plan, data={"name": "Our name"})
    page.go_back()
    page.click("input[value='Sync now']")
    page.goto("/admin/plansync/plansyncconflict/?status__exact=open")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list")).to_contain_text("Our name")
    expect(page.locator("#result_list")).to_contain_text("Their name")
    page.click("button[value=benefits_admin]")
    expect(page.locator(".messagelist .success")).to_contain_text("Conflict resolved")
    assert Plan.objects.get(pk=plan.pk).name == "Their name"
