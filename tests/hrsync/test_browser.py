"""Benefits Management in a real browser: sync a selection in the Failed tab, watch rows move, open a history."""
import pytest

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
    assert page.locator("#sync-tabs a[data-tab=failed] .count").inner_text() == "3"
    page.click("#sync-tabs a[data-tab=failed]")
    assert page.locator("#result_list tbody tr").count() == 3

    # when: select the two and Sync
    for employee in retry:
        page.check(f"input.action-select[value='{employee.pk}']")
    page.select_option("select[name=action]", "sync")
    page.click("button[name=index]")
    assert "2 employees will be sent to the benefits platform." in page.locator("#sync-confirm").inner_text()
    page.click("#sync-confirm input[type=submit]")

    # then: they moved to Successful; the unmapped one stays Failed with its reason
    page.wait_for_selector(".messagelist .success")
    assert page.locator("#sync-tabs a[data-tab=successful] .count").inner_text() == "2"
    assert page.locator("#sync-tabs a[data-tab=failed] .count").inner_text() == "1"
    assert page.locator("#result_list tbody tr").count() == 1
    page.click("#result_list a.sync-failed")
    history = page.locator("#sync-history").inner_text()
    assert "no mapping to a platform package" in history
    assert all(len(sandbox.accounts(e.email)) == 1 for e in retry)
