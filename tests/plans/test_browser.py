import pytest

from plans.models import Plan
from tests.plans.factories import CarrierFactory, EmployerGroupFactory


@pytest.mark.browser
def test_staff_opens_a_group_adds_a_plan_with_rates_and_renews_it(admin_login, agency_admin):
    group = EmployerGroupFactory(name="Harbor Dental Group")
    carrier = CarrierFactory(name="Guardian Test")
    page = admin_login(agency_admin)

    # given: the group's page
    page.goto(f"/admin/plans/employergroup/{group.pk}/change/")
    assert page.locator("h2", has_text="Plans").count() == 1

    # when: add a plan from it, with the four tier rates
    page.click("#add-plan")
    page.wait_for_selector("#plan_form")
    page.select_option("#id_carrier", str(carrier.pk))
    page.select_option("#id_line_of_coverage", "dental")
    page.fill("#id_name", "Dental PPO 1500")
    page.select_option("#id_plan_type", "ppo")
    page.fill("#id_effective_date", "2026-01-01")
    page.fill("#id_renewal_date", "2027-01-01")
    assert page.locator("#id_b_medical__deductible_individual").is_hidden()
    page.fill("#id_b_dental__annual_maximum", "1500")
    page.fill("#id_b_dental__coinsurance_major", "50")
    for i, amount in enumerate(["41.20", "82.40", "78.10", "121.55"]):
        page.fill(f"#id_rates-{i}-monthly_rate", amount)
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")

    # then: the plan page reads like a benefits summary
    plan = Plan.objects.get(group=group)
    assert plan.rates.count() == 4
    summary = page.locator("#plan-summary")
    assert "Annual maximum" in summary.inner_text() and "$1,500" in summary.inner_text()
    assert "$121.55" in page.locator("#plan-rates").inner_text()

    # when: renew it with a 5% rate increase
    page.click("#renew-plan")
    page.fill("#id_rate_change_percent", "5")
    page.click("input[name=_renew]")
    page.wait_for_selector(".messagelist .success")

    # then: the next plan year, linked to its predecessor, shows the chain and the new rates
    renewal = Plan.objects.get(renewed_from=plan)
    assert page.url.endswith(f"/admin/plans/plan/{renewal.pk}/change/")
    chain = page.locator("#renewal-chain").inner_text()
    assert "2026" in chain and "2027–2028" in chain and "Renewed" in chain
    assert "$127.63" in page.locator("#plan-rates").inner_text()  # 121.55 + 5%
    assert page.locator("#renew-plan").count() == 1  # the new year can renew; the old one can't
    page.goto(f"/admin/plans/plan/{plan.pk}/change/")
    assert page.locator("#renew-plan").count() == 0

    # and the group lists both plan years
    page.goto(f"/admin/plans/employergroup/{group.pk}/change/?edit=1")
    rows = page.locator("#plans-group tr.has_original")
    assert rows.count() == 2
    assert "Dental PPO 1500 (2027–2028)" in page.locator("#plans-group").inner_text()
