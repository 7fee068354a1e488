"""Benefits Management in a real browser: sync a selection in the Failed tab, watch rows move, open a history."""

import pytest
from playwright.sync_api import expect

from hrsync.models import Employee
from hrsync.services import employee_sync_request

from .factories import BenefitsLevelFactory, EmployeeFactory

State = Employee.SyncState


@pytest.mark.browser
def test_sync_the_failed_tab_and_open_a_failed_rows_history(admin_login, agency_admin, sandbox):
    # given: two employees who failed during an outage, one who can't be sent (no package mapping)
    retry = EmployeeFactory.create_batch(2, sync_state=State.FAILED)
    stuck = EmployeeFactory(last_name="Unmapped", benefits_level=BenefitsLevelFactory(name="Executive", package_code=""))
    employee_sync_request(actor=agency_admin, employees=[stuck.pk])
    page = admin_login(agency_admin)

    page.goto("/admin/hrsync/employee/")
    expect(page.locator("#sync-tabs a[data-tab=failed] .count")).to_have_text("3")
    page.click("#sync-tabs a[data-tab=failed]")
    page.wait_for_url("**/?sync_state=failed")
    expect(page.locator("#result_list tbody tr")).to_have_count(3)

    # when: select the two and Sync
    for employee in retry:
        page.check(f"input.action-select[value='{employee.pk}']")
    page.select_option("select[name=action]", "sync")
    page.click("button[name=index]")
    expect(page.locator("#sync-confirm .sync-count")).to_have_text("2 employees will be sent to the benefits platform.")
    page.click("#sync-confirm input[type=submit]")

    # then: they moved to Successful; the unmapped one stays Failed with its reason
    page.wait_for_selector(".messagelist .success")
    expect(page.locator("#sync-tabs a[data-tab=successful] .count")).to_have_text("2")
    expect(page.locator("#sync-tabs a[data-tab=failed] .count")).to_have_text("1")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    page.click("#result_list a.sync-failed")
    expect(page.locator("#sync-history .reason").first).to_contain_text("no mapping to a platform package")
    assert all(len(sandbox.accounts(e.email)) == 1 for e in retry)
