import factory

from accounts.models import Agent, SecurityGroup, User

PASSWORD = "correct-horse-battery"  # every factory-made user's password


class SecurityGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SecurityGroup

    name = factory.Sequence(lambda n: f"Group {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@agency.example")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    security_group = factory.SubFactory(SecurityGroupFactory)
    password = factory.django.Password(PASSWORD)


class AgentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agent

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Faker("email")
