"""The home per role: the day's work in panels by right, apps grouped by what staff do, plumbing for administrators."""

import pytest
from django.contrib import admin

from accounts.rights import Level
from core import home
from core.admin_site import AgencyDeskAdminSite, group_of
from hrsync.models import Employee, SyncAttempt
from tests.hrsync.factories import EmployeeFactory
from tests.salesrecords.factories import ActivityFactory


def test_admin_site_is_the_agencydesk_site_so_new_apps_register_on_it():
    assert isinstance(admin.site, AgencyDeskAdminSite)
    assert group_of("plansync", "planlink") == "Employer groups & plans"
    assert group_of("carriers", "connection") == "Carriers" and group_of("ams", "identity") == "Clients"
    assert group_of("django_celery_beat", "periodictask") == "System" and group_of("accounts", "apitoken") == "System"


def test_a_sales_user_sees_their_activities_and_no_plumbing(client, make_user):
    user = make_user(individuals=Level.EDIT, sales=Level.DELETE)
    ActivityFactory(assigned_to=user, subject="Call Mrs Jones back")
    client.force_login(user)
    html = client.get("/admin/").content.decode()
    assert "<h1>AgencyDesk</h1>" in html and "Back office" not in html
    assert "Call Mrs Jones back" in html and 'id="group-sales"' in html and 'id="group-clients"' in html
    assert 'id="group-system"' not in html and "Periodic tasks" not in html and "Sync queues" not in html
    assert html.index('id="group-clients"') < html.index('id="group-sales"')


def test_an_administrator_sees_the_plumbing_last_and_the_benefits_queues(client, agency_admin):
    employee = EmployeeFactory()
    attempt = SyncAttempt.objects.create(employee=employee, version=1, status=SyncAttempt.Status.FAILED, reason="Not sent: missing date of birth.")
    Employee.objects.filter(pk=employee.pk).update(sync_state=Employee.SyncState.FAILED, last_attempt=attempt)
    client.force_login(agency_admin)
    html = client.get("/admin/").content.decode()
    assert 'id="group-system"' in html and "Periodic tasks" in html
    assert html.index('id="group-administration"') < html.index('id="group-system"')
    assert "Benefits Management" in html and "Sales records" in html
    assert 'data-panel="benefits_sync"' in html and 'data-panel="awaiting"' in html


@pytest.fixture
def extra_panel():
    panel = home.register(
        home.Panel(
            key="test_queue",
            section=home.QUEUES,
            title="Plan sync",
            permission="plans.view_plan",
            rows=lambda request: [home.HomeRow("Failed", url="/x/", count=3, tone="failed")],
        )
    )
    yield panel
    home._PANELS.pop(panel.key)


def test_an_app_adds_a_queue_panel_in_a_few_lines(client, make_user, extra_panel):
    client.force_login(make_user(plans=Level.VISIBLE))
    html = client.get("/admin/").content.decode()
    assert 'data-panel="test_queue"' in html and "Plan sync" in html
    client.force_login(make_user(sales=Level.VISIBLE))
    assert 'data-panel="test_queue"' not in client.get("/admin/").content.decode()


def test_the_integration_apps_put_their_queues_and_open_items_on_the_home(client, agency_admin):
    client.force_login(agency_admin)
    html = client.get("/admin/").content.decode()
    for key in ("plansync_runs", "ams_sync", "awaiting"):
        assert f'data-panel="{key}"' in html, key
