"""The quick search's individuals (``individual_quick_find``): which people, in which order, whatever path the
database takes to the first page (on PostgreSQL a word of 3 letters or more reads the prefix branches' first
page, then the street matches up to its last name; run these on both databases)."""

import pytest

from individuals.selectors import individual_quick_find
from tests.individuals.factories import IndividualFactory

pytestmark = pytest.mark.django_db


def names(found) -> list[str]:
    return [f"{p.last_name}, {p.first_name}" for p in found]


def person(last, first, street="1 Main St", city="Austin", nickname=""):
    return IndividualFactory(last_name=last, first_name=first, address_line1=street, city=city, nickname=nickname)


def test_a_full_first_page_is_in_display_order_with_a_street_match_that_sorts_before_the_last_name_matches():
    for first in ("Dora", "Carl", "Bea", "Abe"):
        person("Thompson", first)
    person("Adams", "Zoe", street="9 Thompson Ave")  # found by the street alone, first in display order
    person("Young", "Amy", street="3 Thompson Ave")  # found by the street alone, after the page
    person("Baker", "Thomas")  # found by the first name
    found = individual_quick_find(words=("thom",), limit=4)
    assert names(found) == ["Adams, Zoe", "Baker, Thomas", "Thompson, Abe", "Thompson, Bea"]


def test_namesakes_are_ordered_by_first_name_then_record_and_the_page_ends_at_the_limit():
    person("Thomas", "Bob")
    first, second = person("Thomas", "Ann"), person("Thomas", "Ann")
    found = individual_quick_find(words=("THOMAS",), limit=2)
    assert [p.pk for p in found] == [first.pk, second.pk]


def test_with_few_name_matches_every_street_nickname_and_city_match_comes_in_display_order():
    person("Zimmer", "Al", street="4 Elmwood Rd")
    person("Elmore", "Ben")
    person("Abbot", "Cy", nickname="Elmo")
    person("Moss", "Di", city="Elmira")
    person("Nash", "Ed", street="7 Oak Ln")  # no match
    found = individual_quick_find(words=("elm",), limit=50)
    assert names(found) == ["Abbot, Cy", "Elmore, Ben", "Moss, Di", "Zimmer, Al"]


def test_a_street_match_after_a_full_page_of_name_matches_is_left_for_the_next_page():
    for first in ("Al", "Bo", "Cy"):
        person("Wilson", first)
    person("Wilson", "Ed", street="2 Wilshire Blvd")
    person("Adams", "Ann", street="8 Wilshire Blvd")
    assert names(individual_quick_find(words=("wils",), limit=3)) == ["Adams, Ann", "Wilson, Al", "Wilson, Bo"]
    assert names(individual_quick_find(words=("wils",), limit=5)) == ["Adams, Ann", "Wilson, Al", "Wilson, Bo", "Wilson, Cy", "Wilson, Ed"]


def test_a_record_a_linked_system_named_is_in_whatever_its_name_and_a_like_wildcard_is_a_plain_character():
    for first in ("Al", "Bo", "Cy"):
        person("Thorne", first)
    named = person("Zed", "Zack")
    person("Percent", "Pat", street="1 100% Way")
    assert names(individual_quick_find(words=("thor",), pks=[named.pk], limit=4)) == ["Thorne, Al", "Thorne, Bo", "Thorne, Cy", "Zed, Zack"]
    assert names(individual_quick_find(words=("0%_",), limit=3)) == []
    assert names(individual_quick_find(words=("00%",), limit=3)) == ["Percent, Pat"]
