"""Each role that may sync plans walks import → choose → preview → sync → the run's page in Chromium.

At every step, at 1280×800 and at 1440×900: no horizontal overflow, no raw Python/JSON literal, no
console error. Screenshots go to ``var/screenshots/``; with ``SCREENSHOTS_DIR=docs/img`` the few that
docs/plansync.md shows are written there (Agency Admin only).
"""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.models import SecurityGroup
from plans.models import Carrier
from plansync.mapping import CARRIER_FROM_REMOTE
from tests.accounts.factories import PASSWORD, UserFactory
from tests.conftest import raw_literals
from tests.plans.factories import EmployerGroupFactory
from tests.plansync.factories import SyncedPlanFactory

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "var" / "screenshots"
DOC_SHOTS = ROOT / os.environ["SCREENSHOTS_DIR"] if os.environ.get("SCREENSHOTS_DIR") else None
VIEWPORTS = [(1280, 800), (1440, 900)]
ROLES = ["Agency Admin", "Service", "Benefits Admin"]  # Edit on Employer Groups & Plans
ACCOUNT = 40002  # Pioneer Dental Group PLLC: medical, dental, vision and life plans there
BENEFITS = {"deductible_individual": 1500, "coinsurance": 20, "hsa_eligible": True, "copays": {"primary_care": 25, "specialist": 50}}


def _check(page, where: str, slug: str, doc_name: str = "", show: str = "") -> None:
    for width, height in VIEWPORTS:
        page.set_viewport_size({"width": width, "height": height})
        html = page.content()
        assert not raw_literals(html), f"{where} at {width}px: {raw_literals(html)}"
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{where} at {width}px: the page is {overflow}px wider than the window"
        for table in page.locator("#content table").all():
            box = table.bounding_box()
            if box:
                assert box["x"] + box["width"] <= width, f"{where} at {width}px: a table runs off screen"
        page.screenshot(path=SHOTS / f"plansync-{slug}-{where.replace(' ', '-')}-{width}.png")
        if doc_name and DOC_SHOTS and width == 1280:
            if show:  # the part the docs talk about, at the top of the window
                page.locator(show).first.evaluate("e => e.scrollIntoView()")
            page.screenshot(path=DOC_SHOTS / f"{doc_name}.png")
            page.evaluate("window.scrollTo(0, 0)")


@pytest.mark.browser
@pytest.mark.parametrize("role", ROLES)
def test_a_role_imports_chooses_previews_syncs_and_reads_the_run(page, role, benefitpoint):
    user = UserFactory(
        username=role.lower().replace(" ", "_"), first_name="Dana", last_name="Whitfield", security_group=SecurityGroup.objects.get(name=role)
    )
    medical = next(p for p in benefitpoint.products(accountID=ACCOUNT) if p["productTypeID"] == 101 and p["productStatus"] == "Current")
    code = CARRIER_FROM_REMOTE[medical["carrierID"]]
    Carrier.objects.get_or_create(code=code, defaults={"name": code.title(), "active": True})
    others = [p for p in benefitpoint.products(accountID=ACCOUNT) if p["productID"] != medical["productID"]]
    # the agency's own record of the group, with its plans: the account is linked to it, not imported anew
    group = EmployerGroupFactory(name="Pioneer Dental Group PLLC", account_number="EG-1003")
    group.addresses.create(kind="mailing", line1="12 Elm St", city="Columbus", state="OH", zip_code="43215")
    EmployerGroupFactory(name="Pioneer Dental Group PLLC", account_number="EG-1044").addresses.create(
        kind="mailing", line1="9 Oak Ave", city="Raleigh", state="NC", zip_code="27601"
    )
    ours = SyncedPlanFactory(group=group, name="Pioneer Choice Plus PPO 3500 (agency copy, 2026 plan year)", benefit_summary=BENEFITS)
    dental = SyncedPlanFactory(group=group, name="Pioneer Dental PPO", line_of_coverage="dental", benefit_summary={"annual_maximum": 1500})
    problems = []
    page.on("console", lambda msg: problems.append(f"console: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    SHOTS.mkdir(parents=True, exist_ok=True)
    slug = role.lower().replace(" ", "-")
    docs = role == "Agency Admin"
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto("/admin/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")

    # import: from Employer groups, find the account by name, import it into a new group
    page.goto("/admin/plans/employergroup/")
    page.click("text=Import benefits-admin account")
    page.fill("#q", "Pioneer")
    page.click("input[value=Search]")
    expect(page.locator("#accounts")).to_contain_text(str(ACCOUNT))
    _check(page, "import", slug, "plansync-import" if docs else "")
    row = page.locator("#accounts tbody tr", has_text=str(ACCOUNT))
    row.locator("select[name=group]").select_option(label="Link to Pioneer Dental Group PLLC (EG-1003, Columbus)")
    row.locator(f"input[value='Import {ACCOUNT}']").click()
    expect(page.locator(".messagelist .success")).to_contain_text(f"Imported account {ACCOUNT} into Pioneer Dental Group PLLC")

    # choose: link our medical plan with theirs (our benefits win), don't sync the rest; Preview keeps it all
    _check(page, "choose", slug)
    pair = page.locator(f"select[name=pair-plan-{ours.pk}] option[value]:not([value=''])")
    assert all(str(p["productID"]) in pair.evaluate_all("os => os.map(o => o.value)") for p in [medical])
    assert page.locator(f"select[name=pair-plan-{ours.pk}] optgroup").first.get_attribute("label") == "Medical, overlapping plan year"
    assert not any(p["productTypeID"] != 101 and str(p["productID"]) in pair.evaluate_all("os => os.map(o => o.value)") for p in others)
    chosen = {
        f"choice-plan-{ours.pk}": "link",
        f"pair-plan-{ours.pk}": str(medical["productID"]),
        f"truth-benefits-plan-{ours.pk}": "agencydesk",
        f"choice-plan-{dental.pk}": "dont_sync",
        **{f"choice-product-{p['productID']}": "dont_sync" for p in others},
    }
    for name, value in chosen.items():
        page.select_option(f"select[name={name}]", value)
    page.click("input[name=preview]")
    expect(page.locator("#preview")).to_contain_text("Links the two plans")
    expect(page.locator("#preview")).to_contain_text("Benefit: Copay: Primary care visit")
    for name, value in chosen.items():
        expect(page.locator(f"select[name={name}]")).to_have_value(value)
    _check(page, "preview", slug, "plansync-preview" if docs else "", show="#preview-heading")
    page.locator("input[name=save]").last.click()
    expect(page.locator(".messagelist .success")).to_contain_text(f"{len(others) + 2} plan choices saved")

    # sync now, then the run's page: the plan created here, each benefit its own line, who asked by name
    page.click("input[value='Sync now']")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list")).to_contain_text("Successful")
    _check(page, "runs", slug)
    page.locator("#result_list tbody tr th a").first.click()
    expect(page.locator("#content")).to_contain_text("Dana Whitfield")
    expect(page.locator("#content")).to_contain_text("Benefit: Copay: Primary care visit")
    expect(page.locator("#content")).not_to_contain_text(user.username)
    _check(page, "run", slug, "plansync-run" if docs else "", show=".inline-group")
    assert not problems, problems
