"""In Chromium, at 1280×800 and 1440×900, for each role that may do them: *AMS link* (an individual's
page → search the AMS → page through → pick the customer) and *connect a carrier → discrepancies*.

On every page: no server error, no console error, no raw Python/JSON literal, nothing wider than the
window, and in the queues no word broken mid-word ("Human a"). The Agency Admin's walk at 1280×800 saves
screenshots to ``var/screenshots/``, or with ``SCREENSHOTS_DIR=docs/img`` the ones docs/ams.md and
docs/carriers.md show.
"""

import os
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.models import SecurityGroup
from carriers.models import CarrierConnection, Discrepancy
from integrations.registry import System, external_id_link, external_id_lookup, external_ids_for
from plans.models import Carrier
from tests.accounts.factories import PASSWORD, UserFactory
from tests.carriers.factories import connected_group, roster
from tests.conftest import raw_literals
from tests.individuals.factories import IndividualFactory
from tests.plans.factories import CarrierFactory, PlanFactory

SHOTS = Path(__file__).resolve().parents[2] / os.environ.get("SCREENSHOTS_DIR", "var/screenshots")
VIEWPORTS = [(1280, 800), (1440, 900)]
AMS_LINK_ROLES = ["Agency Admin", "Sales", "Service"]  # Edit on Individuals
CONNECT_ROLES = ["Agency Admin", "Benefits Admin"]  # Add and Edit on Carrier Connections

# Words cut across two lines inside a table cell (a word wrapped whole is fine; "Human|a" is not).
BROKEN_WORDS = """(selector) => {
  const broken = [];
  document.querySelectorAll(selector).forEach((cell) => {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const m of node.data.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const lines = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
        if (lines.size > 1) broken.push(m[0]);
      }
    }
  });
  return broken;
}"""


class Walk:
    """The checks every page of a walk passes, and the problems the browser reported meanwhile."""

    def __init__(self, page, role: str):
        self.page, self.role, self.problems = page, role, []
        page.on("console", lambda msg: self.problems.append(f"console: {msg.text}") if msg.type == "error" else None)
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        page.on("response", lambda r: self.problems.append(f"{r.status} {r.url}") if r.status >= 500 or r.status == 404 else None)

    def login(self, user):
        self.page.goto("/admin/login/")
        self.page.fill("#id_username", user.username)
        self.page.fill("#id_password", PASSWORD)
        self.page.click("input[type=submit]")
        self.page.wait_for_selector("#user-tools")

    def check(self, where: str, *, words_whole: str = "", shot: str = ""):
        page = self.page
        page.wait_for_load_state()
        width = page.viewport_size["width"]
        where = f"{self.role} at {width}px: {where}"
        found = raw_literals(page.content())
        assert not found, f"{where}: {found}"
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{where}: the page is {overflow}px wider than the window"
        for table in page.locator("#content table").all():
            box = table.bounding_box()
            if box:
                assert box["x"] + box["width"] <= width + 1, f"{where}: a table overflows"
        if words_whole:
            broken = page.evaluate(BROKEN_WORDS, words_whole)
            assert not broken, f"{where}: words cut mid-word: {broken}"
        if shot and self.role == "Agency Admin" and width == 1280:
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=SHOTS / f"{shot}.png")

    def done(self):
        assert not self.problems, self.problems


def _user(role: str):
    return UserFactory(username=role.lower().replace(" ", "_"), security_group=SecurityGroup.objects.get(name=role))


@pytest.mark.browser
@pytest.mark.parametrize("role", AMS_LINK_ROLES)
def test_ams_link_search_page_through_and_pick(page, ams_sandbox, role):
    for n in range(30):
        ams_sandbox.insert(
            FirstName=f"Pat{n:02d}",
            LastName="Pageturner",
            City="Tampa",
            State="FL",
            ZipCode="33602",
            AddressLine1=f"{100 + n} Elm St",
            Email=f"pat{n}@mail.example",
        )
    user = _user(role)
    walk = Walk(page, role)
    walk.login(user)

    for width, height in VIEWPORTS:
        page.set_viewport_size({"width": width, "height": height})
        record = IndividualFactory(first_name="Pat", last_name="Pageturner", city="Tampa", email=f"pat.{width}@mail.example")
        page.goto(f"/admin/individuals/individual/{record.pk}/change/")
        page.click("#link-ams")
        walk.check("the link page")
        page.fill("#id_name_prefix", "Pageturner")
        page.click("#candidate-search button[type=submit]")
        expect(page.locator("#candidate-count")).to_contain_text("customers whose name starts with “Pageturner”: 1–25 shown")
        walk.check("the first page of candidates", words_whole="#candidates td", shot="ams-link")
        page.click("#candidate-pages a[rel=next]")
        expect(page.locator("#candidate-count")).to_contain_text("26–")
        walk.check("the second page of candidates", words_whole="#candidates td")
        row = page.locator("#candidates tbody tr").filter(has_text="Pat29 Pageturner")
        customer_id = row.locator("input[name=customer_id]").get_attribute("value") if row.locator("input[name=customer_id]").count() else None
        if customer_id is None:  # linked at the other viewport: the row names the record that holds it
            expect(row.locator("a.linked-to")).to_be_visible()
            row = page.locator("#candidates tbody tr").filter(has=page.locator("button", has_text="This is the one")).first
            customer_id = row.locator("input[name=customer_id]").get_attribute("value")
        row.locator("button", has_text="This is the one").click()
        expect(page.locator(".messagelist .success")).to_contain_text("Linked to the AMS customer")
        walk.check("the individual, linked")
        assert external_id_lookup(system="ams", object_type="customer", external_id=customer_id).pk == record.pk
    walk.done()


@pytest.mark.browser
@pytest.mark.parametrize("role", CONNECT_ROLES)
def test_connect_a_carrier_by_name_then_work_the_discrepancies(page, noyo, role):
    user = _user(role)
    walk = Walk(page, role)
    walk.login(user)
    for n, (width, height) in enumerate(VIEWPORTS):
        page.set_viewport_size({"width": width, "height": height})
        group, _ = connected_group(members=12)
        group.name = f"Keystone Logistics International {n}"
        group.save()
        carrier = Carrier.objects.filter(name="Humana").first() or CarrierFactory(name="Humana")
        if System.CARRIER_EXCHANGE not in external_ids_for(carrier):
            external_id_link(obj=carrier, system=System.CARRIER_EXCHANGE, object_type="carrier", external_id=str(uuid.uuid4()))
        PlanFactory(group=group, carrier=carrier)
        noyo.seed(**roster(group, carrier, f"HUM-{n}", share=0.4, seed=5 + n))  # the sandbox derives member ids from the seed

        page.goto(f"/admin/plans/employergroup/{group.pk}/change/")
        page.click("#connect-carrier")
        walk.check("the connect form", shot="carriers-connect")
        assert page.locator("#id_noyo_carrier_id").count() == 0  # no id to type
        page.select_option("#id_carrier", label="Humana")
        page.fill("#id_carrier_group_id", f"HUM-{n}")
        page.click("#connect-form input[type=submit]")
        expect(page.locator(".messagelist .success")).to_contain_text("Connection requested")
        for _ in range(5):
            if "Completed" in page.locator(".field-status_badge").inner_text():
                break
            with page.expect_navigation():
                page.click("#poll-now")
        assert "Completed" in page.locator(".field-status_badge").inner_text(), (n, page.locator("#content").inner_text()[:1500])
        walk.check("the connection")
        connection = CarrierConnection.objects.get(employer_group=group, carrier=carrier)
        assert Discrepancy.objects.filter(connection=connection).exists()

        page.locator(".field-discrepancies_link a").click()
        expect(page.locator("#result_list")).to_be_visible()
        walk.check("the discrepancy queue", words_whole="#result_list td", shot="carriers-discrepancies")
        first = page.locator("#result_list tbody tr").first
        first.locator("input.action-select").check()
        page.select_option("select[name=action]", "acknowledge")
        page.click("button[name=index]")
        expect(page.locator(".messagelist .success")).to_contain_text("1 discrepancy resolved")
        walk.check("the queue after a resolution", words_whole="#result_list td")
    walk.done()
