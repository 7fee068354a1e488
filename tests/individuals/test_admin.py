import pytest
from django.urls import reverse

from accounts.models import AuditLog
from accounts.rights import Flag, Level
from individuals.models import CustomField, Individual, Policy

from .factories import CarrierFactory, CustomFieldFactory, IndividualFactory, PolicyFactory

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:individuals_individual_changelist")
SSN = "123-45-6789"


@pytest.fixture
def admin_client_for(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def test_search_form_is_above_the_list_and_filters(admin_client_for, agency_admin):
    target = IndividualFactory(last_name="Target")
    PolicyFactory(individual=target, coverage_type="medicare_advantage", status="active")
    other = IndividualFactory(last_name="Other")
    PolicyFactory(individual=other, coverage_type="medicare_advantage", status="terminated")
    PolicyFactory(individual=other, coverage_type="dental", status="active")
    client = admin_client_for(agency_admin)

    html = client.get(CHANGELIST).content.decode()
    assert html.index('id="advanced-search"') < html.index('id="result_list"')

    html = client.get(CHANGELIST + "?coverage_type=medicare_advantage&policy_status=active").content.decode()
    assert "Target, " in html and "Other, " not in html


def test_search_form_posts_and_redirects_without_personal_data_in_the_url(admin_client_for, agency_admin):
    person = IndividualFactory(ssn=SSN, last_name="Found")
    IndividualFactory(ssn="123-45-6780", last_name="Missed")
    client = admin_client_for(agency_admin)
    response = client.post(CHANGELIST, {"_advanced_search": "1", "ssn": SSN, "state": ["TX"], "last_name": ""})
    assert response.status_code == 302
    url = response["Location"]
    assert "6789" not in url and "ssn=" not in url and "ssn_hash=" in url and "last_name" not in url
    html = client.get(url).content.decode()
    assert "Found, " in html and "Missed, " not in html
    assert "Also searching by SSN" in html
    assert person.ssn_last4 in html  # masked column


def test_clear_personal_data_in_a_url_is_refused(admin_client_for, agency_admin):
    IndividualFactory(ssn=SSN, last_name="Secret")
    html = admin_client_for(agency_admin).get(CHANGELIST + f"?ssn={SSN}").content.decode()
    assert "never goes in a URL" in html and "Secret, " not in html


def test_bad_criteria_show_form_errors(admin_client_for, agency_admin):
    IndividualFactory(last_name="Anyone")
    client = admin_client_for(agency_admin)
    html = client.get(CHANGELIST + "?policy_effective_after=2025-99-99&coverage_type=timeshare").content.decode()
    assert 'id="search-errors"' in html
    assert "Anyone, " not in html
    response = client.post(CHANGELIST, {"_advanced_search": "1", "ssn": "12-34"}, follow=True)
    assert "Enter a valid SSN" in response.content.decode()


def test_list_shows_masked_personal_data_only(admin_client_for, make_user):
    IndividualFactory(ssn=SSN)
    trusted = make_user(individuals=Level.VISIBLE, flags={Flag.VIEW_FULL_PERSONAL_DATA})
    html = admin_client_for(trusted).get(CHANGELIST).content.decode()
    assert "***-**-6789" in html and SSN not in html and "123456789" not in html


def test_changelist_queries_are_constant_in_the_page_size(admin_client_for, agency_admin, django_assert_max_num_queries):
    from tests.accounts.factories import AgentFactory

    for _ in range(12):
        PolicyFactory(individual=IndividualFactory(servicing_agent=AgentFactory()))
    client = admin_client_for(agency_admin)
    client.get(CHANGELIST)  # warm the session / content types
    counts = []
    for per_page in (3, 12):
        from individuals.admin import IndividualAdmin

        IndividualAdmin.list_per_page = per_page
        try:
            with django_assert_max_num_queries(15) as ctx:
                assert client.get(CHANGELIST + "?coverage_type=medicare_advantage").status_code == 200
        finally:
            IndividualAdmin.list_per_page = 50
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_sortable_columns(admin_client_for, agency_admin):
    IndividualFactory(last_name="Zimmer", city="Albany")
    IndividualFactory(last_name="Abbott", city="Yonkers")
    client = admin_client_for(agency_admin)
    html = client.get(CHANGELIST).content.decode()
    assert html.index("Abbott, ") < html.index("Zimmer, ")
    html = client.get(CHANGELIST + "?o=2").content.decode()  # the city column
    assert html.index("Zimmer, ") < html.index("Abbott, ")


def test_admin_create_encrypts_validates_custom_fields_and_saves_policies(admin_client_for, agency_admin):
    CustomFieldFactory(key="plan_year", name="Plan year", field_type=CustomField.FieldType.NUMBER)
    carrier = CarrierFactory()
    client = admin_client_for(agency_admin)
    form = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "record_status": "active",
        "ssn": SSN,
        "cf_plan_year": "abc",
        "policies-TOTAL_FORMS": "1",
        "policies-INITIAL_FORMS": "0",
        "policies-MIN_NUM_FORMS": "0",
        "policies-MAX_NUM_FORMS": "1000",
        "policies-0-coverage_type": "dental",
        "policies-0-carrier": carrier.pk,
        "policies-0-status": "active",
    }
    response = client.post(reverse("admin:individuals_individual_add"), form)
    assert response.status_code == 200  # the form again, with the error
    assert Individual.objects.count() == 0
    form["cf_plan_year"] = "2026"
    response = client.post(reverse("admin:individuals_individual_add"), form)
    assert response.status_code == 302, response.content.decode()[:3000]
    person = Individual.objects.get()
    assert person.ssn_last4 == "6789" and person.custom_fields == {"plan_year": 2026}
    assert Policy.objects.get().individual == person
    assert AuditLog.objects.filter(content_type__model="policy", action="create").exists()
    page = client.get(reverse("admin:individuals_individual_change", args=[person.pk])).content.decode()
    assert SSN not in page and "***-**-6789" in page


def test_reveal_in_admin_needs_the_right_is_post_only_and_audited(admin_client_for, make_user):
    person = IndividualFactory(ssn=SSN)
    url = reverse("admin:individuals_individual_reveal", args=[person.pk, "ssn"])
    plain = admin_client_for(make_user(individuals=Level.EDIT))
    assert "pd-reveal" not in plain.get(reverse("admin:individuals_individual_change", args=[person.pk])).content.decode()
    assert plain.post(url).status_code == 403
    plain.logout()

    trusted_user = make_user(individuals=Level.VISIBLE, flags={Flag.VIEW_FULL_PERSONAL_DATA})
    trusted = admin_client_for(trusted_user)
    assert "pd-reveal" in trusted.get(reverse("admin:individuals_individual_change", args=[person.pk])).content.decode()
    assert trusted.get(url).status_code == 405
    assert not AuditLog.objects.filter(action="reveal").exists()
    assert trusted.post(url).json() == {"value": SSN}
    assert AuditLog.objects.get(action="reveal").actor == trusted_user


def test_rights_per_area_in_the_admin(admin_client_for, make_user):
    policy = PolicyFactory()
    client = admin_client_for(make_user(individuals=Level.VISIBLE))
    assert client.get(CHANGELIST).status_code == 200
    assert client.get(reverse("admin:individuals_policy_changelist")).status_code == 403
    assert client.get(reverse("admin:individuals_individual_add")).status_code == 403
    change = client.get(reverse("admin:individuals_individual_change", args=[policy.individual_id])).content.decode()
    assert policy.policy_number not in change  # no Policies right: the inline is not shown
    client.logout()

    client = admin_client_for(make_user(policies=Level.EDIT))
    assert client.get(CHANGELIST).status_code == 403
    assert client.get(reverse("admin:individuals_policy_change", args=[policy.pk])).status_code == 200


def test_custom_field_in_use_cannot_change_type_or_be_deleted(admin_client_for, agency_admin):
    field = CustomFieldFactory(key="tier", field_type=CustomField.FieldType.TEXT)
    IndividualFactory(custom_fields={"tier": "gold"})
    client = admin_client_for(agency_admin)
    response = client.post(
        reverse("admin:individuals_customfield_change", args=[field.pk]),
        {"name": "Tier", "key": "tier", "field_type": "number", "options": "[]", "active": "on", "order": "0"},
    )
    assert response.status_code == 200 and "cannot change" in response.content.decode()
    response = client.post(reverse("admin:individuals_customfield_delete", args=[field.pk]), {"post": "yes"})
    assert CustomField.objects.filter(pk=field.pk).exists()


def test_search_keeps_the_sort_order(admin_client_for, agency_admin):
    response = admin_client_for(agency_admin).post(CHANGELIST, {"_advanced_search": "1", "o": "-2", "state": "TX"})
    assert response["Location"].endswith("?state=TX&o=-2")


@pytest.fixture
def three_per_page():
    from individuals.admin import IndividualAdmin

    IndividualAdmin.list_per_page = 3
    yield
    IndividualAdmin.list_per_page = 50


def test_a_last_name_search_pages_in_display_order_in_a_fixed_number_of_queries(
    admin_client_for, agency_admin, three_per_page, django_assert_num_queries
):
    for last, first in (("Smithson", "Bo"), ("Smith", "Cy"), ("Smithers", "Al"), ("Smith", "Al"), ("Smyth", "Ed"), ("Adams", "Di")):
        IndividualFactory(last_name=last, first_name=first)
    client = admin_client_for(agency_admin)
    client.get(CHANGELIST)  # warm the session / content types

    def rows(html):
        shown = [n for n in ("Smith, Al", "Smith, Cy", "Smithers, Al", "Smithson, Bo", "Smyth, Ed", "Adams, Di") if n in html]
        return sorted(shown, key=html.index)

    # session, user, custom fields, the count, the page (its ids, then their rows: one statement), the import and
    # sales-record rights (top bar, Create Sales Records), the form's agents and carriers
    with django_assert_num_queries(12):
        first = client.get(CHANGELIST + "?last_name=smith").content.decode()
    assert rows(first) == ["Smith, Al", "Smith, Cy", "Smithers, Al"] and "4 found" in first
    assert rows(client.get(CHANGELIST + "?last_name=smith&p=2").content.decode()) == ["Smithson, Bo"]
    assert rows(client.get(CHANGELIST + "?last_name=smith&o=-0").content.decode()) == ["Smithson, Bo", "Smithers, Al", "Smith, Al"]
