"""Each seeded role walks its main flow in Chromium at 1440×900 and 1280×800.

On every page: no server error, no console error, no raw Python/JSON literal, the main table does
not overflow the window and its key columns are on screen. Screenshots go to ``var/screenshots/``, or to
``docs/screenshots/`` (the README's) with ``SCREENSHOTS_DIR=docs/screenshots``.
"""

import datetime
import os
from pathlib import Path

import pytest

from accounts.models import SecurityGroup
from accounts.services import record_save
from hrsync.models import Employee, SyncAttempt
from tests.accounts.factories import PASSWORD, AgentFactory, UserFactory
from tests.conftest import raw_literals
from tests.hrsync.factories import EmployeeFactory
from tests.individuals.factories import IndividualFactory, PolicyFactory
from tests.plans.factories import PlanFactory
from tests.salesrecords.factories import (
    ActivityFactory,
    MassCreationJobFactory,
    SalesRecordFactory,
    SalesRecordTypeFactory,
    SalesRecordTypeRightFactory,
)

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / os.environ.get("SCREENSHOTS_DIR", "var/screenshots")
VIEWPORTS = [(1440, 900), (1280, 800)]

# Each page: (name, path template, the key columns that must be on screen).
PAGES = {
    "home": ("/admin/", []),
    "individuals-search": (
        "/admin/individuals/individual/?state=FL",
        ["column-name", "column-date_of_birth", "column-status", "column-servicing_agent"],
    ),
    "individual": ("/admin/individuals/individual/{individual}/change/", []),
    "sales-records": ("/admin/salesrecords/salesrecord/", ["column-name", "column-record_type", "column-individual_link", "column-job_link"]),
    "activities": ("/admin/salesrecords/activity/", ["column-subject", "column-record_link", "column-due_date"]),
    "job": ("/admin/salesrecords/masscreationjob/{job}/change/", []),
    "benefits-management": ("/admin/hrsync/employee/", ["column-__str__", "column-state", "column-benefits_account_id", "column-last_outcome"]),
    "sync-history": ("/admin/hrsync/employee/{employee}/sync-history/", []),
    "employer-group": ("/admin/plans/employergroup/{group}/change/", []),
    "audit-log": ("/admin/accounts/auditlog/", ["column-when", "column-record", "column-what_changed"]),
}
FLOWS = {
    "Agency Admin": ["home", "individuals-search", "individual", "job", "benefits-management", "employer-group", "audit-log"],
    "Sales": ["home", "individuals-search", "individual", "sales-records", "activities", "job"],
    "Service": ["home", "individuals-search", "individual", "benefits-management", "sync-history", "employer-group"],
    "Benefits Admin": ["home", "benefits-management", "sync-history", "employer-group"],
    "Read Only": ["home", "individuals-search", "individual", "benefits-management", "employer-group"],
}
# The screenshots the README shows.
README_SHOTS = {("Agency Admin", "home"), ("Agency Admin", "individuals-search"), ("Agency Admin", "job"), ("Agency Admin", "benefits-management")}


def _book(user) -> dict:
    renewal = SalesRecordTypeFactory(name="Renewal")
    SalesRecordTypeRightFactory(user=user, record_type=renewal, can_view=True, can_add=True, can_change=True)
    agent = AgentFactory(first_name="Dana", last_name="Whitfield")
    cities = [("Tampa", "33602"), ("Orlando", "32801"), ("Miami", "33130")]
    people = [
        IndividualFactory(
            state="FL", city=cities[n % 3][0], zip_code=cities[n % 3][1], servicing_agent=agent, cell_phone=f"555-201-{1000 + n}", custom_fields={}
        )
        for n in range(6)
    ]
    for person in people:
        PolicyFactory(individual=person)
    job = MassCreationJobFactory(
        record_type=renewal, created_by=user, criteria={"state": ["FL"]}, status="succeeded", matched=6, processed=6, created=5, skipped=1
    )
    for person in people[:5]:
        record = SalesRecordFactory(
            individual=person, record_type=renewal, job=job, assigned_user=user, first_name=person.first_name, last_name=person.last_name
        )
    ActivityFactory(sales_record=record, assigned_to=user, subject="Call about the renewal", due_date=datetime.date.today())
    plan = PlanFactory()
    employees = [EmployeeFactory(employer_group=plan.group) for _ in range(4)]
    failed = employees[0]
    attempt = SyncAttempt.objects.create(
        employee=failed,
        version=1,
        status=SyncAttempt.Status.FAILED,
        action="create",
        payload={"firstName": failed.first_name, "dateOfBirth": "****-**-**"},
        reason="The benefits platform refused the email address as already used by another account.",
    )
    Employee.objects.filter(pk=failed.pk).update(sync_state=Employee.SyncState.FAILED, last_attempt=attempt)
    person = people[0]
    person.city = "Tallahassee"
    record_save(actor=user, instance=person, changed=["city"])  # an audit entry with old → new
    return {"individual": people[0].pk, "job": job.pk, "employee": failed.pk, "group": plan.group_id}


@pytest.mark.browser
@pytest.mark.parametrize("role", list(FLOWS))
def test_each_role_walks_its_main_flow_without_raw_output_or_overflow(page, role):
    user = UserFactory(username=role.lower().replace(" ", "_"), security_group=SecurityGroup.objects.get(name=role))
    ids = _book(user)
    problems, server_errors = [], []
    page.on("console", lambda msg: problems.append(f"console: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("response", lambda r: server_errors.append(f"{r.status} {r.url}") if r.status >= 500 else None)
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status == 404 else None)
    page.goto("/admin/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")
    SHOTS.mkdir(parents=True, exist_ok=True)
    slug = role.lower().replace(" ", "-")

    for width, height in VIEWPORTS:
        page.set_viewport_size({"width": width, "height": height})
        for name in FLOWS[role]:
            path, key_columns = PAGES[name]
            response = page.goto(path.format(**ids))
            where = f"{role} {name} at {width}px"
            assert response.status == 200, f"{where}: {response.status}"
            assert not raw_literals(page.content()), f"{where}: {raw_literals(page.content())}"
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{where}: the page is {overflow}px wider than the window"
            table = page.locator("#result_list")
            if table.count():
                box = table.bounding_box()
                assert box["x"] + box["width"] <= width, f"{where}: the table overflows"
            for column in key_columns:
                header = page.locator(f"#result_list th.{column}")
                assert header.count() == 1, f"{where}: no {column} column"
                box = header.bounding_box()
                assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"{where}: {column} is off screen"
            page.screenshot(path=SHOTS / f"{slug}-{name}-{width}.png")
            if name == "home":
                plumbing = page.locator("#group-system").count()
                assert plumbing == (1 if role == "Agency Admin" else 0), f"{where}: plumbing shown to {role}"
    assert not problems, problems
    assert not server_errors, server_errors
