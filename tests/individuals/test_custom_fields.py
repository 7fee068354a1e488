import datetime

import pytest
from django.core.exceptions import ValidationError

from individuals.models import CustomField
from individuals.services import custom_field_create, individual_create, individual_update

from .factories import CustomFieldFactory, IndividualFactory

pytestmark = pytest.mark.django_db
T = CustomField.FieldType


@pytest.mark.parametrize(
    ("field_type", "options", "value", "stored"),
    [
        (T.TEXT, [], "Likes golf", "Likes golf"),
        (T.LONG_TEXT, [], "Line 1\nLine 2", "Line 1\nLine 2"),
        (T.DATE, [], "2026-03-01", "2026-03-01"),
        (T.DATE, [], datetime.date(2026, 3, 1), "2026-03-01"),
        (T.DROPDOWN, ["Gold", "Silver"], "Silver", "Silver"),
        (T.NUMBER, [], "42", 42),
        (T.NUMBER, [], 2.5, 2.5),
        (T.CURRENCY, [], "1234.567", 1234.57),
        (T.PERCENT, [], "12.5", 12.5),
        (T.CHECKBOX, [], True, True),
        (T.CHECKBOX, [], "false", False),
        (T.CHECKBOX_LIST, ["Phone", "Email", "Mail"], ["Mail", "Phone"], ["Phone", "Mail"]),
    ],
)
def test_valid_values_are_normalised_by_type(agency_admin, field_type, options, value, stored):
    CustomFieldFactory(key="f", field_type=field_type, options=options)
    person = individual_create(actor=agency_admin, data={"first_name": "A", "last_name": "B", "custom_fields": {"f": value}})
    person.refresh_from_db()
    assert person.custom_fields == {"f": stored}


@pytest.mark.parametrize(
    ("field_type", "options", "value"),
    [
        (T.TEXT, [], 12),
        (T.TEXT, [], "x" * 256),
        (T.DATE, [], "2026-02-30"),
        (T.DATE, [], "next week"),
        (T.DROPDOWN, ["Gold"], "Platinum"),
        (T.NUMBER, [], "twelve"),
        (T.NUMBER, [], True),
        (T.CURRENCY, [], "12,00 EUR"),
        (T.PERCENT, [], "150"),
        (T.CHECKBOX, [], "maybe"),
        (T.CHECKBOX_LIST, ["Phone"], ["Phone", "Pigeon"]),
        (T.CHECKBOX_LIST, ["Phone"], [1]),
    ],
)
def test_wrong_type_values_are_refused_and_nothing_is_written(agency_admin, field_type, options, value):
    CustomFieldFactory(key="f", field_type=field_type, options=options)
    with pytest.raises(ValidationError) as exc:
        individual_create(actor=agency_admin, data={"first_name": "A", "last_name": "B", "custom_fields": {"f": value}})
    assert "custom_fields" in exc.value.message_dict
    assert exc.value.message_dict["custom_fields"][0].startswith("f: ")


def test_unknown_and_inactive_fields_are_refused(agency_admin):
    CustomFieldFactory(key="old", active=False)
    person = IndividualFactory()
    for values in ({"nope": "x"}, {"old": "x"}):
        with pytest.raises(ValidationError):
            individual_update(actor=agency_admin, individual=person, data={"custom_fields": values})


def test_empty_value_removes_it_and_other_values_are_kept(agency_admin):
    CustomFieldFactory(key="a")
    CustomFieldFactory(key="b")
    person = IndividualFactory(custom_fields={"a": "1", "b": "2"})
    individual_update(actor=agency_admin, individual=person, data={"custom_fields": {"a": ""}})
    person.refresh_from_db()
    assert person.custom_fields == {"b": "2"}


def test_definition_rules(agency_admin):
    with pytest.raises(ValidationError) as exc:
        custom_field_create(actor=agency_admin, name="Tier", key="tier", field_type=T.DROPDOWN, options=[])
    assert "options" in exc.value.message_dict
    with pytest.raises(ValidationError):
        custom_field_create(actor=agency_admin, name="Note", key="note", field_type=T.TEXT, options=["x"])
    with pytest.raises(ValidationError):
        custom_field_create(actor=agency_admin, name="Tier", key="tier", field_type=T.DROPDOWN, options=["A", "A"])
    with pytest.raises(ValidationError):
        custom_field_create(actor=agency_admin, name="Bad", key="Has Space", field_type=T.TEXT)
    assert custom_field_create(actor=agency_admin, name="Tier", key="tier", field_type=T.DROPDOWN, options=["A", "B"]).pk
