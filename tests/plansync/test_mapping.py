"""Every value map, one test per value (a value with no counterpart fails with the reason)."""

import pytest

from plans.models import Carrier, Plan
from plansync import mapping


@pytest.mark.parametrize(("type_id", "line"), sorted(mapping.PRODUCT_TYPE_TO_LINE.items()))
def test_product_types_map_to_lines_and_back(type_id, line):
    assert mapping.line_from_remote(type_id) == line
    assert mapping.LINE_TO_PRODUCT_TYPE[line] == type_id


@pytest.mark.parametrize("type_id", sorted(mapping.UNMAPPED_PRODUCT_TYPES))
def test_product_types_without_a_line_fail_with_the_reason(type_id):
    with pytest.raises(mapping.Unmappable, match="no AgencyDesk line of coverage"):
        mapping.line_from_remote(type_id)


@pytest.mark.parametrize("line", Plan.Line.values)
def test_every_line_of_coverage_has_a_product_type(line):
    assert line in mapping.LINE_TO_PRODUCT_TYPE


@pytest.mark.parametrize(
    ("status", "remote"),
    [("pending", "Pending"), ("active", "Current"), ("renewed", "Expired"), ("cancelled", "Cancelled"), ("terminated", "Expired")],
)
def test_statuses_to_the_benefits_admin_system(status, remote):
    assert mapping.STATUS_TO_REMOTE[status] == remote


@pytest.mark.parametrize(
    ("remote", "current", "status"),
    [
        ("Pending", None, "pending"),
        ("Current", None, "active"),
        ("Cancelled", None, "cancelled"),
        ("Expired", None, "terminated"),
        ("Expired", "renewed", "renewed"),
        ("Expired", "terminated", "terminated"),
        ("Expired", "active", "terminated"),
    ],
)
def test_statuses_from_the_benefits_admin_system(remote, current, status):
    assert mapping.status_from_remote(remote, current) == status


def test_an_unknown_status_fails():
    with pytest.raises(mapping.Unmappable):
        mapping.status_from_remote("Lapsed")


@pytest.mark.parametrize(("billing", "remote"), [("direct_bill", "Direct_Bill"), ("list_bill", "Agency_Bill")])
def test_billing_types_both_ways(billing, remote):
    assert mapping.BILLING_TO_REMOTE[billing] == remote and mapping.BILLING_FROM_REMOTE[remote] == billing


def test_self_bill_has_no_counterpart():
    assert "self_bill" not in mapping.BILLING_TO_REMOTE


@pytest.mark.django_db
@pytest.mark.parametrize(("carrier_id", "code"), sorted(mapping.CARRIER_FROM_REMOTE.items()))
def test_carriers_map_to_seeded_carriers(carrier_id, code):
    assert Carrier.objects.filter(code=mapping.carrier_code_from_remote(carrier_id)).exists()
    assert mapping.CARRIER_TO_REMOTE[code] == carrier_id


def test_an_unknown_carrier_fails():
    with pytest.raises(mapping.Unmappable, match="2099"):
        mapping.carrier_code_from_remote(2099)


@pytest.mark.parametrize(("tier", "text"), sorted(mapping.TIER_TO_REMOTE.items()))
def test_rate_tiers_both_ways(tier, text):
    assert mapping.tier_to_remote({"tier": tier}) == text
    assert mapping.tier_from_remote(text)["tier"] == tier


@pytest.mark.parametrize(("band", "text"), [((18, 29), "Age 18-29"), ((60, None), "Age 60+")])
def test_age_bands_both_ways(band, text):
    assert mapping.tier_to_remote({"tier": "", "age_min": band[0], "age_max": band[1]}) == text
    assert (mapping.tier_from_remote(text)["age_min"], mapping.tier_from_remote(text)["age_max"]) == band


def test_an_unknown_rate_tier_fails():
    with pytest.raises(mapping.Unmappable):
        mapping.tier_from_remote("Employee + Pets")


@pytest.mark.parametrize(("first", "last", "name"), [("Dana", "Reyes", "Dana Reyes"), ("Mary Ann", "Lee", "Mary Ann Lee"), ("", "Ng", "Ng")])
def test_contact_names_join(first, last, name):
    assert mapping.contact_name(first, last) == name


def test_contact_names_split_and_a_single_word_fails():
    assert mapping.split_contact_name("Mary Ann Lee") == ("Mary Ann", "Lee")
    with pytest.raises(mapping.Unmappable):
        mapping.split_contact_name("Cher")
