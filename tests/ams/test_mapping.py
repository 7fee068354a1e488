"""Every AMS value set mapped onto ours, value by value; an unknown value is a reason, never a default."""

import pytest

from ams import mapping

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("ams", "ours"),
    [
        ("MEDADV", "medicare_advantage"),
        ("MEDSUP", "medicare_supplement"),
        ("PDP", "part_d"),
        ("ACA", "aca"),
        ("HEALTH", "health"),
        ("DENTAL", "dental"),
        ("VISION", "vision"),
        ("LIFE", "life"),
        ("ANNUITY", "annuity"),
        ("HOSPIND", "hospital_indemnity"),
        ("CANCER", "cancer"),
        ("LTC", "long_term_care"),
    ],
)
def test_policy_types(ams, ours):
    assert mapping.POLICY_TYPES[ams] == ours


@pytest.mark.parametrize(
    ("ams", "ours"),
    [
        ("Active", "active"),
        ("Pending", "pending"),
        ("Cancelled", "cancelled"),
        ("Expired", "terminated"),
        ("NonRenewed", "terminated"),
        ("Declined", "declined"),
    ],
)
def test_policy_statuses(ams, ours):
    assert mapping.POLICY_STATUSES[ams] == ours


def test_unknown_values_fail_with_the_value_named():
    from plans.models import Carrier

    carriers = {c.code: c for c in Carrier.objects.all()}
    policy = {"PolicyType": "DENTAL", "PolicyStatus": "Active", "WritingCompanyCode": "humana", "PolicyNumber": "X"}
    assert mapping.policy_values(policy, carriers)["coverage_type"] == "dental"
    for field, value, words in [
        ("PolicyType", "GL", "Policy type 'GL'"),
        ("PolicyStatus", "Limbo", "Policy status 'Limbo'"),
        ("WritingCompanyCode", "acme", "Writing company 'acme'"),
    ]:
        with pytest.raises(mapping.MappingError, match=words):
            mapping.policy_values({**policy, field: value}, carriers)


def test_customer_values():
    person = {"FirstName": " Ada ", "LastName": "Lovelace", "State": "tx", "ZipCode": "bad", "IsActive": False, "CustomerType": "Customer"}
    values = mapping.individual_values(person)
    assert (values["first_name"], values["state"], values["zip_code"], values["record_status"]) == ("Ada", "TX", "", "inactive")
    firm = {"FirmName": "Harbor Co", "FederalTaxIdNumber": "12-3456789", "CustomerType": "Prospect", "IsCommercial": True}
    assert mapping.group_values(firm) == {"name": "Harbor Co", "dba": "", "federal_ein": "12-3456789", "status": "prospect"}
    contacts = mapping.contact_values([{"ContactName": "B", "SortOrder": 2}, {"ContactName": "A", "SortOrder": 1}])
    assert [(c["name"], c["is_primary"]) for c in contacts] == [("A", True), ("B", False)]
