import datetime
import uuid
from decimal import Decimal

import factory

from hrsync.models import BenefitsLevel, Employee
from tests.plans.factories import EmployerGroupFactory

__all__ = ["BenefitsLevelFactory", "EmployeeFactory", "EmployerGroupFactory"]


class BenefitsLevelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BenefitsLevel
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Level {n}")
    package_code = "STANDARD"


class EmployeeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Employee

    employer_group = factory.SubFactory(EmployerGroupFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    # Unique across the whole session: the sandbox outlives each test's database.
    email = factory.Sequence(lambda n: f"employee{n}.{uuid.uuid4().hex[:8]}@staff.example")
    date_of_birth = datetime.date(1985, 5, 17)
    gender = Employee.Gender.FEMALE
    hire_date = datetime.date(2020, 2, 3)
    annual_pay = Decimal("64000.00")
    pay_frequency = Employee.PayFrequency.BIWEEKLY
    benefits_level = factory.SubFactory(BenefitsLevelFactory, name="Standard", package_code="STANDARD")
