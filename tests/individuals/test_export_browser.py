"""In the browser: search with policy criteria, save the search, run it again, download the CSV."""

import csv
import io
from pathlib import Path

import pytest

from accounts.models import AuditLog
from accounts.rights import Level
from individuals.models import SavedSearch

from .factories import IndividualFactory, PolicyFactory


@pytest.mark.browser
def test_search_save_it_run_it_and_download_the_csv(admin_login, make_user):
    # given: one Active Medicare Advantage client among others
    target = IndividualFactory(first_name="Greta", last_name="Target", ssn="123-45-6789")
    PolicyFactory(individual=target, coverage_type="medicare_advantage", status="active")
    decoy = IndividualFactory(first_name="Dexter", last_name="Decoy")
    PolicyFactory(individual=decoy, coverage_type="medicare_advantage", status="terminated")
    user = make_user(individuals=Level.EDIT)  # sharing a search needs Edit on Individuals
    page = admin_login(user)

    # when: the search is run with policy criteria and saved, shared
    page.goto("/admin/individuals/individual/")
    page.click("#advanced-search-toggle")
    page.click("summary:has-text('Policies')")
    page.select_option("#id_coverage_type", ["medicare_advantage"])
    page.select_option("#id_policy_status", ["active"])
    page.click("#advanced-search-submit")
    page.wait_for_url("**coverage_type=medicare_advantage**")
    page.click("#search-tools > summary")
    page.click("#save-search-link")
    page.wait_for_selector("#save-search-form")
    assert "Policy status: Active" in page.locator("#saved-criteria").inner_text()
    page.fill("#id_name", "AEP: active MA")
    page.check("#id_shared")
    page.click("#save-search-form input[type=submit]")
    page.wait_for_selector(".messagelist .success")

    # then: it is listed, and running it brings back the same results
    saved = SavedSearch.objects.get()
    assert saved.criteria == {"coverage_type": "medicare_advantage", "policy_status": "active"} and saved.shared
    page.goto("/admin/individuals/individual/")
    page.click("#search-tools > summary")
    page.click("#saved-searches-link")
    page.click("a.run-search")
    page.wait_for_url("**policy_status=active**")
    assert page.locator("#result_list tbody tr").count() == 1

    # and the CSV holds the search's results with the SSN masked
    with page.expect_download() as download_info:
        page.click("#export-menu > summary")
        page.click("#export-csv-link")
    rows = list(csv.DictReader(io.StringIO(Path(download_info.value.path()).read_text(encoding="utf-8"))))
    assert [(r["first_name"], r["ssn"]) for r in rows] == [("Greta", "***-**-6789")]
    assert AuditLog.objects.filter(action=AuditLog.Action.EXPORT, actor=user).count() == 1
