"""Mass creation in a real browser: search -> Create Sales Records… -> confirm -> the job page reaches Succeeded."""

import pytest

from salesrecords.models import MassCreationJob, SalesRecord
from tests.individuals.factories import IndividualFactory

from .factories import SalesRecordFactory, SalesRecordTypeFactory


@pytest.mark.browser
def test_search_create_sales_records_confirm_and_watch_the_job(admin_login, agency_admin):
    # given: six Wilsons, one of whom already has a sales record, and someone else
    lead = SalesRecordTypeFactory(name="Lead")
    renewal = SalesRecordTypeFactory(name="Renewal")
    wilsons = IndividualFactory.create_batch(6, last_name="Wilson")
    IndividualFactory(last_name="Other")
    SalesRecordFactory(individual=wilsons[0], record_type=lead)
    page = admin_login(agency_admin)

    # when: search, then "Create Sales Records…"
    page.goto("/admin/individuals/individual/")
    page.click("#advanced-search-toggle")
    page.fill("#id_last_name", "Wilson")
    page.click("#advanced-search-submit")
    page.wait_for_url("**last_name=Wilson**")
    page.click("#create-sales-records")

    # then: the confirmation states found / skipped / irreversible
    assert page.locator("#found-count").inner_text() == "6"
    assert page.locator("#existing-count").inner_text() == "1"
    assert "cannot be stopped or undone" in page.locator("#irreversible").inner_text()
    page.select_option("#id_record_type", str(renewal.pk))
    page.click("#confirm-create")

    # and the job page shows it finished, with the criteria it ran with
    page.wait_for_selector("#job-progress")
    page.wait_for_function("document.getElementById('job-status').textContent === 'Succeeded'")
    assert page.locator("#job-created").inner_text() == "5"
    assert page.locator("#job-skipped").inner_text() == "1"
    assert "Last name starts with: Wilson" in page.locator("#job-criteria").inner_text()
    assert SalesRecord.objects.filter(record_type=renewal).count() == 5


@pytest.mark.browser
def test_the_job_page_follows_a_running_job_live(admin_login, agency_admin):
    job = MassCreationJob.objects.create(
        created_by=agency_admin,
        record_type=SalesRecordTypeFactory(name="AEP"),
        criteria={"state": ["FL"]},
        status="running",
        matched=10,
        processed=4,
        created=3,
        skipped=1,
    )
    page = admin_login(agency_admin)
    page.goto(f"/admin/salesrecords/masscreationjob/{job.pk}/change/")
    assert page.locator("#job-status").inner_text() == "Running"

    MassCreationJob.objects.filter(pk=job.pk).update(status="succeeded", processed=10, created=8, skipped=2)

    page.wait_for_function("document.getElementById('job-status').textContent === 'Succeeded'")
    assert page.locator("#job-created").inner_text() == "8"
