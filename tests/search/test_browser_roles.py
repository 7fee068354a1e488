"""Each seeded role takes a caller's call in Chromium, at 1280×800 and 1440×900: the quick search → the client's
page → its timeline (filtered) → the form (saved, for the roles that may edit); the group roles do the same for
an employer group. On every page: no horizontal overflow, no raw Python/JSON literal, no console error.

Screenshots go to ``var/screenshots/client-flow/``; with ``SCREENSHOTS_DIR=docs/img`` the Agency Admin's quick
search and client page at 1280 are the README's ``docs/img/quick-search.png`` and ``docs/img/client-page.png``.
"""

import datetime
import os
from pathlib import Path

import pytest

from accounts.models import SecurityGroup
from individuals.services import individual_update
from integrations.ownership import writing_as
from integrations.registry import external_id_link
from plans.services import employer_group_update
from tests.accounts.factories import PASSWORD, UserFactory
from tests.conftest import raw_literals
from tests.hrsync.factories import EmployeeFactory
from tests.individuals.factories import IndividualFactory, PolicyFactory
from tests.individuals.test_client_page import story
from tests.plans.factories import EmployerGroupFactory, PlanFactory

ROOT = Path(__file__).resolve().parents[2]
SHOTS_ROOT = ROOT / os.environ.get("SCREENSHOTS_DIR", "var/screenshots")
SHOTS = SHOTS_ROOT / ("flows" if os.environ.get("SCREENSHOTS_DIR") == "docs/img" else "client-flow")
README = {("agency-admin", "quick-search", 1280): "quick-search.png", ("agency-admin", "client-page", 1280): "client-page.png"}
VIEWPORTS = [(1280, 800), (1440, 900)]
EDITS_CLIENTS = {"Agency Admin", "Sales", "Service"}
EDITS_GROUPS = {"Agency Admin", "Service", "Benefits Admin"}


def _book(author):
    hedy = IndividualFactory(
        first_name="Hedy",
        last_name="Lamarr",
        city="Austin",
        state="TX",
        ssn="123-45-6789",
        date_of_birth=datetime.date(1950, 11, 9),
        cell_phone="512-555-0101",
        custom_fields={},
    )
    IndividualFactory(first_name="Hedwig", last_name="Lamarr", city="El Paso", date_of_birth=datetime.date(1971, 3, 2), custom_fields={})
    PolicyFactory(individual=hedy, policy_number="MA-77", status="active", renewal_date=datetime.date(2027, 1, 1))
    PolicyFactory(individual=hedy, policy_number="DEN-12", coverage_type="dental", status="terminated")
    individual_update(actor=author, individual=hedy, data={"city": "Dallas"})  # before the AMS owns it
    external_id_link(obj=hedy, system="ams", object_type="customer", external_id="3f2c9a51-8d7e-4b0a-9c1d-2e6f7a8b9c0d")
    with writing_as("ams"):
        individual_update(actor=None, individual=hedy, data={"home_phone": "512-555-0199"})
    story(hedy, author, 2)  # AMS syncs and notifications, sales record, emails, activities, exports, saved searches
    group = EmployerGroupFactory(name="Blue Ridge Dental Group", dba="Blue Ridge")
    PlanFactory(group=group, name="Blue Ridge Dental PPO")
    EmployeeFactory(employer_group=group)
    employer_group_update(actor=author, group=group, data={"office": "Asheville"})
    return hedy, group


class Walk:
    """One role at one size: every page checked the same way, screenshots named by role, step and width."""

    def __init__(self, page, slug, width):
        self.page, self.slug, self.width, self.problems = page, slug, width, []
        page.on("console", lambda m: self.problems.append(f"console: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        page.on("response", lambda r: self.problems.append(f"{r.status} {r.url}") if r.status >= 500 else None)

    def check(self, step, *, full_page=False):
        where = f"{self.slug} {step} at {self.width}px"
        overflow = self.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{where}: the page is {overflow}px wider than the window"
        found = raw_literals(self.page.content())
        assert not found, f"{where}: raw literals {found}"
        SHOTS.mkdir(parents=True, exist_ok=True)
        readme = README.get((self.slug, step, self.width)) if os.environ.get("SCREENSHOTS_DIR") == "docs/img" else None
        self.page.screenshot(path=(SHOTS_ROOT / readme) if readme else SHOTS / f"{self.slug}-{step}-{self.width}.png", full_page=full_page)

    def quick_search(self, text, pick, step="quick-search"):
        """ "/" focuses the box, the text is typed, the arrows pick the row holding ``pick``, Enter opens it."""
        page = self.page
        page.keyboard.press("/")
        assert page.evaluate("document.activeElement.id") == "ad-qs-input"
        page.keyboard.type(text)
        page.wait_for_selector("#ad-qs-list [role=option]")
        options = page.locator("#ad-qs-list [role=option]")
        index = next(i for i in range(options.count()) if pick in options.nth(i).inner_text())
        self.check(step)
        for _ in range(index + 1):
            page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")


@pytest.mark.browser
@pytest.mark.parametrize("role", ["Agency Admin", "Sales", "Service", "Benefits Admin", "Read Only"])
def test_each_role_finds_a_client_reads_the_timeline_and_edits(page, role):
    user = UserFactory(
        first_name="Robin", last_name=role.split()[0], username=role.lower().replace(" ", "_"), security_group=SecurityGroup.objects.get(name=role)
    )
    author = UserFactory(first_name="Ann", last_name="Lee", security_group=SecurityGroup.objects.get(name="Agency Admin"))
    hedy, group = _book(author)
    page.goto("/admin/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")
    slug = role.lower().replace(" ", "-")

    for width, height in VIEWPORTS:
        page.set_viewport_size({"width": width, "height": height})
        walk = Walk(page, slug, width)
        page.goto("/admin/")

        # quick search → the client's page: who, reach, policies, provenance, the timeline
        walk.quick_search("lamarr", "Dallas")
        page.wait_for_selector("#client-timeline")
        assert "Hedy" in page.inner_text("h1")
        timeline = page.inner_text("#client-timeline")
        assert "City: Austin → Dallas" in timeline and "AMS (sync)" in timeline and "AMS notification" in timeline
        assert "In a CSV export" in timeline
        assert "from AMS" in page.inner_text("#client-reach")  # the home phone the AMS owns
        assert "Last changed" in (page.get_attribute("#client-reach dd[data-field=home_phone]", "title") or "")
        linked = page.inner_text("#linked-systems")
        assert "Hedy Lamarr" in linked  # the AMS customer's name, not only its id
        if role in ("Agency Admin", "Sales"):
            assert "Sales activity" in page.inner_text("#client-timeline nav")
        walk.check("client-page", full_page=True)

        # the timeline, one kind at a time
        page.click("#client-timeline nav a:has-text('AMS notifications')")
        page.wait_for_url("**timeline=notification**")
        shown = page.inner_text("#client-timeline ol")
        assert "AMS notification" in shown and "City:" not in shown
        walk.check("timeline-notifications")
        page.click("#client-timeline nav a:has-text('Edits')")
        page.wait_for_url("**timeline=edit**")
        assert "City: Austin → Dallas" in page.inner_text("#client-timeline ol")

        # editing is one click away; a save comes back to the client page with the change on the timeline
        page.click("#client-edit")
        page.wait_for_selector("#individual_form")
        walk.check("client-form")
        if role in EDITS_CLIENTS:
            nickname = f"Hed{width}"
            page.fill("#id_nickname", nickname)
            page.click("input[name=_save]")
            page.wait_for_selector("#client-timeline")
            assert "Nickname: " in page.inner_text("#client-timeline") and nickname in page.inner_text("#client-timeline")
        else:
            assert page.locator("input[name=_save]").count() == 0

        # the group roles: quick search → the group's page → its timeline → its form
        page.goto("/admin/")
        walk.quick_search("blue ridge", "Blue Ridge Dental Group", "quick-search-group")
        page.wait_for_selector("#group-timeline")
        assert "Blue Ridge Dental PPO" in page.inner_text("#group-plans")
        assert "Office: — → Asheville" in page.inner_text("#group-timeline")
        walk.check("group-page", full_page=True)
        page.click("#group-edit")
        page.wait_for_selector("#employergroup_form")
        walk.check("group-form")
        if role in EDITS_GROUPS:
            page.fill("#id_office", f"Boone {width}")
            page.click("input[name=_save]")
            page.wait_for_selector("#group-timeline")
            assert f"Boone {width}" in page.inner_text("#group-timeline")
        assert not walk.problems, walk.problems
