from django.apps import AppConfig


class IndividualsConfig(AppConfig):
    name = "individuals"
