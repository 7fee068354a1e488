import pytest

from accounts.models import AuditLog
from accounts.rights import Flag, Level

from .factories import IndividualFactory, PolicyFactory


@pytest.mark.browser
def test_staff_search_with_policy_criteria_above_the_list(admin_login, make_user):
    # given: an Active Medicare Advantage client, and one whose MA policy is terminated (Dental active)
    target = IndividualFactory(first_name="Greta", last_name="Target", state="FL")
    PolicyFactory(individual=target, coverage_type="medicare_advantage", status="active")
    decoy = IndividualFactory(first_name="Dexter", last_name="Decoy", state="FL")
    PolicyFactory(individual=decoy, coverage_type="medicare_advantage", status="terminated")
    PolicyFactory(individual=decoy, coverage_type="dental", status="active")
    page = admin_login(make_user(individuals=Level.VISIBLE))

    # when: the search form above the list is filled in and submitted
    page.goto("/admin/individuals/individual/")
    form_box, list_box = page.locator("#advanced-search-panel").bounding_box(), page.locator("#result_list").bounding_box()
    assert form_box["y"] < list_box["y"]
    assert page.locator("#result_list tbody tr").count() == 2
    page.click("#advanced-search-toggle")  # the search folds above the results
    page.click("summary:has-text('Policies')")
    page.select_option("#id_coverage_type", ["medicare_advantage"])
    page.select_option("#id_policy_status", ["active"])
    page.click("#advanced-search-submit")
    page.wait_for_url("**coverage_type=medicare_advantage**")

    # then: only the client whose same policy matches both criteria is listed
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    assert "Target, Greta" in rows.first.inner_text()
    assert page.locator("#search-count-summary").inner_text() == "1 found"
    assert "Coverage types" in page.locator("#criteria-summary").inner_text()
    assert page.locator("#id_policy_status option[value=active]").evaluate("o => o.selected")


@pytest.mark.browser
def test_reveal_on_the_detail_page_is_audited(admin_login, make_user):
    person = IndividualFactory(ssn="123-45-6789")
    user = make_user(individuals=Level.VISIBLE, flags={Flag.VIEW_FULL_PERSONAL_DATA})
    page = admin_login(user)
    page.goto(f"/admin/individuals/individual/{person.pk}/change/")
    assert page.locator("#pd-ssn").inner_text() == "***-**-6789"
    page.click("#personal-data .pd-reveal")
    page.wait_for_function("document.querySelector('#pd-ssn').textContent === '123-45-6789'")
    assert "123-45" not in page.url and "6789" not in page.url
    assert AuditLog.objects.filter(action="reveal", actor=user, object_id=str(person.pk)).count() == 1
