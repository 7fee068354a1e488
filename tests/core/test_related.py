"""A record's page shows what other apps register for its model (core.related), by right; the app
that owns the page never imports them (import-linter holds it to that in CI)."""

from django.apps import apps

from accounts import rights
from accounts.rights import Level
from core import admin_site, related
from tests.hrsync.factories import EmployeeFactory
from tests.individuals.factories import IndividualFactory
from tests.plans.factories import EmployerGroupFactory
from tests.salesrecords.factories import ActivityFactory, SalesRecordFactory


def test_an_individuals_page_shows_its_sales_records_and_activities_registered_by_salesrecords(client, agency_admin, make_user):
    individual = IndividualFactory()
    record = SalesRecordFactory(individual=individual, first_name="Ada", last_name="Lovelace")
    ActivityFactory(sales_record=record, subject="Call about the renewal")
    client.force_login(agency_admin)
    html = client.get(f"/admin/individuals/individual/{individual.pk}/change/").content.decode()
    assert 'id="related-sales-records"' in html and "Lovelace, Ada" in html
    assert 'id="related-activities"' in html and "Call about the renewal" in html
    assert html.index('id="related-sales-records"') < html.index('id="related-activities"') < html.index('id="related-saved-searches"')

    client.force_login(make_user(individuals=Level.EDIT))
    html = client.get(f"/admin/individuals/individual/{individual.pk}/change/").content.decode()
    assert 'id="related-saved-searches"' in html and "Lovelace, Ada" not in html and 'id="related-activities"' not in html


def test_an_employer_groups_page_shows_its_employees_registered_by_hrsync_with_see_all(client, agency_admin, make_user):
    group = EmployerGroupFactory()
    EmployeeFactory.create_batch(related.PANEL_ROWS + 1, employer_group=group)
    client.force_login(agency_admin)
    html = client.get(f"/admin/plans/employergroup/{group.pk}/change/").content.decode()
    assert 'id="related-employees"' in html and f"?employer_group__id__exact={group.pk}" in html

    client.force_login(make_user(plans=Level.EDIT))
    html = client.get(f"/admin/plans/employergroup/{group.pk}/change/").content.decode()
    assert 'id="related-employees"' not in html


def test_every_model_label_in_the_menus_and_rights_names_an_installed_app_or_model():
    """A stale label ("plans.discrepancy" after the model moved to carriers) silently matches nothing."""

    def exists(label):
        app_label, _, model = label.partition(".")
        if not model:
            return app_label in apps.app_configs
        try:
            apps.get_model(app_label, model)
        except LookupError:
            return False
        return True

    labels = {label for _, members in admin_site.NAV_GROUPS for label in members}
    labels |= set(admin_site.SYSTEM_MODELS) | set(rights.MODEL_AREAS) | set(rights.FLAG_MODELS) | set(rights.READ_ONLY_MODELS)
    assert sorted(label for label in labels if not exists(label)) == []
