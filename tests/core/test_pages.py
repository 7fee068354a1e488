"""Every admin changelist and change page renders, for an agency admin and for a read-only user, without a
Python/JSON literal and with dates, moments and money in the product's one format each (core/display.py)."""

import datetime
import re
from decimal import Decimal

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils.html import strip_tags

from accounts.services import record_save
from core.admin_site import SYSTEM_APPS
from hrsync.models import SyncAttempt
from individuals import services
from individuals.models import CustomField, ExportJob, SavedSearch
from tests.accounts.factories import AgentFactory
from tests.conftest import raw_literals
from tests.hrsync.factories import EmployeeFactory
from tests.individuals.factories import CustomFieldFactory, IndividualFactory, PolicyFactory
from tests.plans.factories import PlanFactory
from tests.salesrecords.factories import ActivityFactory, MassCreationJobFactory, SalesRecordFactory, SalesWorkflowFactory

MODELS = sorted(f"{m._meta.app_label}.{m._meta.model_name}" for m in admin.site._registry)

# What the other formats look like (the product's are "Dec 2, 2026", "Dec 2, 2026 10:02 AM", "$1,234.50").
_OTHER_FORMATS = [
    (r"\b(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\. \d", 'a date as "Dec. 2"'),
    (r"\b(?:January|February|March|April|June|July|August|September|October|November|December) \d{1,2}, \d{4}", 'a date as "December 2, 2026"'),
    (r"\b[A-Z][a-z]{2} 0\d, \d{4}", 'a date as "Dec 02, 2026"'),
    (r"\b\d{1,2}/\d{1,2}/\d{2,4}\b", 'a date as "12/02/2026"'),
    (r"\b\d{4}-\d{2}-\d{2}\b", 'a date as "2026-12-02"'),
    (r"\b\d{1,2}(?::\d{2})? ?[ap]\.m\.|\bmidnight\b|\bnoon\b", 'a time as "10:02 a.m."'),
    (r"(?<![$\d.,\w-])\d{1,3}(?:,\d{3})*\.\d{2}\b(?! ?(?:%|MB|KB|GB|s\b|ms\b|seconds))", "an amount without its currency sign"),
]


def other_formats(html: str) -> list[str]:
    """Where a page shows a date, a moment or an amount in another format than ``core.display``'s: the text
    of ``#content`` (inputs, scripts and help texts skipped, as ``raw_literals`` reads it)."""
    from html.parser import HTMLParser

    class Reader(HTMLParser):
        SKIPPED, VOID = {"script", "style", "textarea", "select", "option", "template"}, {"input", "br", "img", "hr", "meta", "link", "col", "wbr"}

        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.stack, self.found, self.content = [], [], None

        def handle_starttag(self, tag, attrs):
            if tag in self.VOID:
                return
            attrs = dict(attrs)
            skip = tag in self.SKIPPED or "help" in (attrs.get("class") or "").split() or bool(self.stack and self.stack[-1][1])
            self.stack.append((tag, skip))
            if attrs.get("id") == "content" and self.content is None:
                self.content = len(self.stack)

        def handle_endtag(self, tag):
            if all(open_tag != tag for open_tag, _ in self.stack):
                return
            while self.stack:
                open_tag, _ = self.stack.pop()
                if self.content is not None and len(self.stack) < self.content:
                    self.content = None
                if open_tag == tag:
                    break

        def handle_data(self, data):
            if self.content is None or not self.stack or self.stack[-1][1] or not data.strip():
                return
            for pattern, what in _OTHER_FORMATS:
                if re.search(pattern, data):
                    self.found.append(f"{data.strip()[:80]} ({what})")

    reader = Reader()
    reader.feed(html)
    return reader.found


def test_the_format_scan_finds_other_date_and_money_formats_and_leaves_ours_alone():
    page = '<div id="content"><td>{}</td><input value="2026-12-02"><div class="help">e.g. 12/02/2026</div></div>'
    for ours in ("Dec 2, 2026", "Dec 2, 2026 10:02 AM", "$1,234.50", "-$5.00", "12.50%", "1.5 MB", "Plan v2"):
        assert other_formats(page.format(ours)) == [], ours
    for theirs in ("Dec. 2, 2026", "December 2, 2026", "Dec 02, 2026", "12/02/2026", "2026-12-02 10:02", "Dec 2, 2026, 10:02 a.m.", "177.53"):
        assert other_formats(page.format(theirs)), theirs


def test_the_detector_finds_reprs_in_cells_and_leaves_inputs_and_text_alone():
    assert raw_literals('<div id="content"><table><td>[\'Phone\']</td><td>None</td><td>{"a": 1}</td></table></div>') == [
        "td: ['Phone'] (a Python list)",
        "td: None",
        'td: {"a": 1} (a JSON object)',
    ]
    assert (
        raw_literals(
            '<div id="content"><td>Phone, Email</td><textarea>{"a": 1}</textarea>'
            '<div class="help">e.g. {"state": ["FL"]}</div><p>None of these</p></div>'
        )
        == []
    )
    assert raw_literals('<div id="header">True</div><div id="content"><p>ok</p></div>') == []


@pytest.fixture
def sample_records(agency_admin):
    """One of each kind of record, with the values that used to show raw: lists, numbers, dicts, changes."""
    CustomFieldFactory(key="contact_by", name="Contact by", field_type=CustomField.FieldType.CHECKBOX_LIST, options=["Phone", "Email"])
    CustomFieldFactory(key="income", name="Income", field_type=CustomField.FieldType.CURRENCY)
    individual = IndividualFactory(custom_fields={"contact_by": ["Phone"], "income": 35000.0})
    PolicyFactory(individual=individual)
    record = SalesRecordFactory(individual=individual, custom_fields={"contact_by": ["Phone"]})
    ActivityFactory(sales_record=record, assigned_to=agency_admin, due_date=datetime.date.today())
    MassCreationJobFactory(criteria={"state": ["FL"], "record_status": ["prospect"]}, created_by=agency_admin)
    SalesWorkflowFactory(criteria={"state": ["FL"]})
    PlanFactory()
    employee = EmployeeFactory(annual_pay=Decimal("52000.00"))
    SyncAttempt.objects.create(
        employee=employee,
        version=1,
        status=SyncAttempt.Status.FAILED,
        action="create",
        payload={"firstName": "Ada", "ssn": "***-**-1234", "coverage": {"package": "STANDARD"}},
        reason="Not sent: missing date of birth.",
        response_code=None,
    )
    SavedSearch.objects.create(name="Florida", owner=agency_admin, criteria={"state": ["FL"]})
    ExportJob.objects.create(owner=agency_admin, criteria={"state": ["FL"]}, reveal=["ssn"], status=ExportJob.Status.SUCCEEDED)
    agent = AgentFactory(first_name="Tom")
    agent.first_name = "Thomas"
    record_save(actor=agency_admin, instance=agent, changed=["first_name"])
    PolicyFactory(individual=individual, premium=Decimal("177.53"), status="terminated")
    services.individual_update(actor=agency_admin, individual=individual, data={"custom_fields": {"income": 40000}})


@pytest.fixture
def read_only(make_user):
    from accounts.rights import Area, Level

    return make_user(**{a.value: Level.VISIBLE for a in Area})


@pytest.mark.parametrize("model", MODELS)
def test_changelist_and_change_page_read_as_text(client, agency_admin, read_only, sample_records, assert_no_raw_literals, model):
    app_label, model_name = model.split(".")
    agency_admin.is_superuser = True  # the plumbing too (periodic tasks, tokens, lockouts)
    agency_admin.save()
    model_admin = next(ma for m, ma in admin.site._registry.items() if m._meta.label_lower == model)
    obj = model_admin.model._default_manager.order_by("pk").last()
    # The editor's pages, then the read-only pages (values shown as text, not in inputs) of a Visible-everywhere user.
    for user, who in ((agency_admin, "an agency admin"), (read_only, "a read-only user")):
        client.force_login(user)
        response = client.get(reverse(f"admin:{app_label}_{model_name}_changelist"))
        if user is read_only and (response.status_code == 403 or app_label in SYSTEM_APPS):
            continue  # plumbing only administrators see
        assert response.status_code == 200, model
        assert_no_raw_literals(response, f"the {model} list ({who})")
        assert not other_formats(response.content.decode()), f"the {model} list ({who})"
        if obj is None:
            continue
        response = client.get(reverse(f"admin:{app_label}_{model_name}_change", args=[obj.pk]))
        if user is read_only and response.status_code in (302, 403, 404):
            continue  # e.g. another person's export job or import
        assert response.status_code == 200, model
        assert_no_raw_literals(response, f"a {model} page ({who})")
        assert not other_formats(response.content.decode()), f"a {model} page ({who})"


def test_audit_entries_say_field_old_and_new(client, agency_admin, sample_records):
    client.force_login(agency_admin)
    html = client.get(reverse("admin:accounts_auditlog_changelist")).content.decode()
    assert "First name: Tom → Thomas" in strip_tags(html)


def test_custom_field_values_are_formatted_by_type(client, make_user):
    from accounts.rights import Level

    viewer = make_user(individuals=Level.VISIBLE)
    CustomFieldFactory(key="contact_by", name="Contact by", field_type=CustomField.FieldType.CHECKBOX_LIST, options=["Phone", "Email"])
    CustomFieldFactory(key="income", name="Income", field_type=CustomField.FieldType.CURRENCY)
    individual = IndividualFactory(custom_fields={"contact_by": ["Phone", "Email"], "income": 35000.0})
    client.force_login(viewer)
    html = client.get(reverse("admin:individuals_individual_change", args=[individual.pk])).content.decode()
    assert "Contact by: Phone, Email" in html and "Income: $35,000.00" in html


def test_a_403_is_in_the_product_frame_names_the_missing_right_and_logs_no_traceback(client, make_user, caplog):
    from accounts.rights import Level

    user = make_user(sales=Level.VISIBLE)  # no Individuals right
    client.force_login(user)
    response = client.get(reverse("admin:individuals_individual_changelist"))
    html = response.content.decode()
    assert response.status_code == 403
    assert 'id="error-403"' in html and 'class="ad-nav"' in html and 'href="/admin/"' in html
    logged = [record for record in caplog.records if getattr(record, "status_code", None) == 403]
    assert logged and all(record.exc_info is None for record in logged)


def test_the_403_page_shows_the_reason_passed_with_the_exception(rf, make_user):
    from django.core.exceptions import PermissionDenied

    from core.views import permission_denied

    request = rf.get("/admin/x/")
    request.user = make_user()
    response = permission_denied(request, PermissionDenied("You need Edit on Individuals."))
    response.render()
    assert response.status_code == 403 and "You need Edit on Individuals." in response.content.decode()


def test_a_404_says_what_was_not_found_with_a_way_home(client, agency_admin):
    client.force_login(agency_admin)
    response = client.get("/admin/no-such-page/")
    assert response.status_code in (302, 404)  # the admin's catch-all may send to its own 404
    response = client.get("/nowhere/")
    assert response.status_code == 404 and "/nowhere/" in response.content.decode() and 'href="/admin/"' in response.content.decode()


def test_api_me_shows_levels_as_names(api_client, make_user):
    from accounts.rights import Level

    user = make_user(individuals=Level.EDIT)
    api_client.force_authenticate(user)
    body = api_client.get("/api/me/").json()
    assert body["security_group"]["individuals"] == "Edit" and body["security_group"]["sales"] == "None"
    assert body["rights"]["areas"]["individuals"] == "Edit"


def test_a_sales_records_custom_fields_read_as_text_above_their_input(client, agency_admin):
    CustomFieldFactory(key="contact_by", name="Contact by", field_type=CustomField.FieldType.CHECKBOX_LIST, options=["Phone", "Email"])
    record = SalesRecordFactory(custom_fields={"contact_by": ["Phone", "Email"]})
    client.force_login(agency_admin)
    html = client.get(reverse("admin:salesrecords_salesrecord_change", args=[record.pk])).content.decode()
    assert "Contact by: Phone, Email" in html
