from django.apps import AppConfig


class SalesrecordsConfig(AppConfig):
    name = "salesrecords"
