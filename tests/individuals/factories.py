import datetime

import factory

from individuals import personal_data
from individuals.models import CustomField, Individual, Policy
from plans.models import Carrier


class CarrierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Carrier
        django_get_or_create = ["code"]

    name = factory.Sequence(lambda n: f"Carrier {n}")
    code = factory.Sequence(lambda n: f"carrier-{n}")


class IndividualFactory(factory.django.DjangoModelFactory):
    """``IndividualFactory(ssn="123-45-6789")`` encrypts like the services do."""

    class Meta:
        model = Individual
        exclude = ["ssn", "medicare_beneficiary_id", "drivers_license"]

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda o: f"{o.first_name}.{o.last_name}@example.com".lower())
    state = "TX"
    date_of_birth = datetime.date(1955, 5, 17)
    ssn = None
    medicare_beneficiary_id = None
    drivers_license = None

    @factory.lazy_attribute
    def ssn_encrypted(self):
        return personal_data.protect("ssn", self.ssn)["encrypted"]

    @factory.lazy_attribute
    def ssn_hash(self):
        return personal_data.protect("ssn", self.ssn)["hash"] if self.ssn else ""

    @factory.lazy_attribute
    def ssn_last4(self):
        return personal_data.protect("ssn", self.ssn)["last4"]

    @factory.lazy_attribute
    def medicare_beneficiary_id_encrypted(self):
        return personal_data.protect("medicare_beneficiary_id", self.medicare_beneficiary_id)["encrypted"]

    @factory.lazy_attribute
    def medicare_beneficiary_id_hash(self):
        return personal_data.protect("medicare_beneficiary_id", self.medicare_beneficiary_id)["hash"]

    @factory.lazy_attribute
    def medicare_beneficiary_id_last4(self):
        return personal_data.protect("medicare_beneficiary_id", self.medicare_beneficiary_id)["last4"]

    @factory.lazy_attribute
    def drivers_license_encrypted(self):
        return personal_data.protect("drivers_license", self.drivers_license)["encrypted"]

    @factory.lazy_attribute
    def drivers_license_hash(self):
        return personal_data.protect("drivers_license", self.drivers_license)["hash"]

    @factory.lazy_attribute
    def drivers_license_last4(self):
        return personal_data.protect("drivers_license", self.drivers_license)["last4"]


class PolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Policy

    individual = factory.SubFactory(IndividualFactory)
    carrier = factory.SubFactory(CarrierFactory)
    policy_number = factory.Sequence(lambda n: f"P{n:06d}")
    coverage_type = Policy.CoverageType.MEDICARE_ADVANTAGE
    status = Policy.Status.ACTIVE
    effective_date = datetime.date(2025, 1, 1)
    renewal_date = datetime.date(2026, 1, 1)


class CustomFieldFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomField
        django_get_or_create = ["key"]

    name = factory.LazyAttribute(lambda o: o.key.replace("_", " ").title())
    key = factory.Sequence(lambda n: f"field_{n}")
    field_type = CustomField.FieldType.TEXT
