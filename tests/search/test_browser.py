"""A service agent's call, in the browser at 1280×800: quick search → client page → timeline → edit."""

import datetime
import os
from pathlib import Path

import pytest

from individuals.services import individual_update
from integrations.ownership import writing_as
from tests.individuals.factories import IndividualFactory, PolicyFactory

SHOTS = Path(__file__).resolve().parents[2] / os.environ.get("SCREENSHOTS_DIR", "var/screenshots")


def no_overflow(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.browser
def test_quick_search_to_the_client_page_its_timeline_and_the_form(admin_login, agency_admin):
    # given: two namesakes, one with policies and a story (an edit by a person, one by the AMS sync)
    hedy = IndividualFactory(
        first_name="Hedy", last_name="Lamarr", city="Austin", ssn="123-45-6789", date_of_birth=datetime.date(1950, 11, 9), cell_phone="512-555-0101"
    )
    IndividualFactory(first_name="Hedwig", last_name="Lamarr", city="El Paso", date_of_birth=datetime.date(1971, 3, 2))
    PolicyFactory(individual=hedy, policy_number="MA-77", status="active", renewal_date=datetime.date(2027, 1, 1))
    PolicyFactory(individual=hedy, policy_number="DEN-12", coverage_type="dental", status="terminated")
    individual_update(actor=agency_admin, individual=hedy, data={"city": "Dallas"})
    with writing_as("ams"):
        individual_update(actor=None, individual=hedy, data={"home_phone": "512-555-0199"})
    page = admin_login(agency_admin)
    page.set_viewport_size({"width": 1280, "height": 800})
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    # when: "/" focuses the box anywhere and the caller's name is typed
    page.goto("/admin/plans/employergroup/")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "ad-qs-input"
    page.keyboard.type("lamarr")
    page.wait_for_selector("#ad-qs-list [role=option]")

    # then: both namesakes, told apart by birth date, city and the masked SSN (never the full one)
    listing = page.inner_text("#ad-qs-list")
    assert "INDIVIDUALS" in listing.upper() and "Dallas" in listing and "El Paso" in listing
    assert "***-**-6789" in listing and "123-45-6789" not in listing
    assert no_overflow(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "quick-search-1280.png")

    # when: the arrows pick Hedy and Enter opens her page
    options = page.locator("#ad-qs-list [role=option]")
    index = [i for i in range(options.count()) if "Dallas" in options.nth(i).inner_text()][0]
    for _ in range(index + 1):
        page.keyboard.press("ArrowDown")
    assert page.get_attribute(f"#ad-qs-opt-{index}", "aria-selected") == "true"
    page.keyboard.press("Enter")
    page.wait_for_selector("#client-timeline")

    # then: the summary (who, reach, policies) and the timeline, within 1280 px
    assert "Lamarr" in page.inner_text("h1")
    assert "MA-77" in page.inner_text("#client-policies") and "Terminated" in page.inner_text("#client-policies")
    timeline = page.inner_text("#client-timeline")
    assert "City: Austin → Dallas" in timeline and "AMS (sync)" in timeline
    assert no_overflow(page)
    page.screenshot(path=SHOTS / "client-page-1280.png", full_page=True)

    # when: the timeline is filtered to edits: a person's and the AMS sync's, each saying who
    page.click("#client-timeline nav a:has-text('Edits')")
    page.wait_for_url("**timeline=edit**")
    assert "Home phone" in page.inner_text("#client-timeline") and "City:" in page.inner_text("#client-timeline")

    # when: Edit is clicked, the form; a save comes back to the client page
    page.click("#client-edit")
    page.wait_for_selector("#individual_form")
    assert no_overflow(page)
    page.fill("#id_nickname", "Hed")
    page.click("input[name=_save]")
    page.wait_for_selector("#client-timeline")
    assert "Nickname: — → Hed" in page.inner_text("#client-timeline")

    # and: Enter without a pick opens the results page
    page.fill("#ad-qs-input", "lamarr")
    page.wait_for_selector("#ad-qs-list [role=option]")
    page.keyboard.press("Escape")  # closes the suggestions, keeps the text
    assert page.is_hidden("#ad-qs-list")
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/search/?q=lamarr")
    assert page.locator("#search-individuals tbody tr").count() == 2
    assert no_overflow(page)
    assert not errors, errors
