"""In a real browser: connect a carrier from an employer group, amend the stuck connection, resolve a discrepancy."""

import pytest
from django.contrib.contenttypes.models import ContentType
from playwright.sync_api import expect

from carriers.models import CarrierConnection, Discrepancy

from .factories import connected_group, roster


@pytest.mark.browser
def test_connect_amend_a_stuck_connection_and_resolve_a_discrepancy(admin_login, agency_admin, noyo):
    # An earlier transactional test's flush may have given content types new ids: don't audit with stale ones.
    ContentType.objects.clear_cache()
    # given a group whose carrier knows it as CG-RIGHT, with differences
    group, carrier = connected_group(members=20)
    noyo.seed(**roster(group, carrier, "CG-RIGHT", share=0.25, seed=3))
    page = admin_login(agency_admin)

    # connect from the employer group, with the wrong carrier group id
    page.goto(f"/admin/plans/employergroup/{group.pk}/change/")
    page.click("#connect-carrier")
    page.select_option("#id_carrier", str(carrier.pk))
    page.fill("#id_carrier_group_id", "CG-WRONG")
    page.click("#connect-form input[type=submit]")
    expect(page.locator(".messagelist .success")).to_contain_text("Connection requested")

    # it gets stuck: action required, with the service's reason
    page.click("#poll-now")
    page.click("#poll-now")
    expect(page.locator(".field-status_badge")).to_contain_text("Action required")
    expect(page.locator(".field-setup_message")).to_contain_text("does not know group CG-WRONG")

    # amend and retry
    page.click("#amend-retry")
    page.fill("#id_carrier_group_id", "CG-RIGHT")
    page.click("#retry-form input[type=submit]")
    expect(page.locator(".field-status_badge")).to_contain_text("Processing")
    expect(page.locator("#amendments-group")).to_contain_text("CG-WRONG → CG-RIGHT")
    page.click("#poll-now")
    expect(page.locator(".field-status_badge")).to_contain_text("Completed")  # and the group data was pulled

    # the discrepancy queue, coverage first: take the carrier's tier for one member
    connection = CarrierConnection.objects.get()
    tier = Discrepancy.objects.filter(connection=connection, field="coverage_tier").first()
    page.goto(f"/admin/carriers/discrepancy/?connection__id__exact={connection.pk}")
    expect(page.locator("#result_list tbody tr").first.locator(".sev")).to_have_text("Coverage")
    page.check(f"input.action-select[value='{tier.pk}']")
    page.select_option("select[name=action]", "take_carrier")
    page.click("button[name=index]")
    expect(page.locator(".messagelist .success")).to_contain_text("1 discrepancy resolved")
    tier.refresh_from_db()
    tier.employee.refresh_from_db()
    assert tier.status == Discrepancy.Status.TOOK_CARRIER
    assert tier.employee.benefits_level.name == tier.carrier_value
