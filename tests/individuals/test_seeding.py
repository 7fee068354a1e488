import io

import pytest
from django.core.management import call_command

from individuals import demo, personal_data
from individuals.filters import IndividualFilterSet
from individuals.models import CustomField, Individual, Policy

pytestmark = pytest.mark.django_db


def test_demo_loads_individuals_policies_and_custom_fields_once(monkeypatch):
    monkeypatch.setattr(demo, "DEMO_SIZE", 60)
    demo.load(io.StringIO())
    demo.load(io.StringIO())  # idempotent
    assert Individual.objects.count() == 60
    assert Policy.objects.count() > 40
    assert CustomField.objects.filter(active=True).count() >= 5
    assert Individual.objects.exclude(custom_fields={}).exists()
    person = Individual.objects.exclude(ssn_encrypted="").first()
    assert len(personal_data.reveal(person, "ssn")) == 9
    # Generated custom field values pass the search's type rules.
    fs = IndividualFilterSet(data={"cf_client_tier": ["Gold"]}, queryset=Individual.objects.all())
    assert fs.is_valid() and fs.qs.exists()


def test_seed_command_adds_individuals_with_policies():
    out = io.StringIO()
    call_command("seed_individuals", "--count", "120", stdout=out)
    assert Individual.objects.count() == 120
    assert 100 < Policy.objects.count() < 300
    call_command("seed_individuals", "--count", "30", "--truncate", stdout=out)
    assert Individual.objects.count() == 30
    hashed = Individual.objects.exclude(ssn_hash="").first()
    clear = personal_data.reveal(hashed, "ssn")
    fs = IndividualFilterSet(data={"ssn_hash": personal_data.hash_value("ssn", clear)}, queryset=Individual.objects.all())
    assert fs.is_valid() and hashed in fs.qs
