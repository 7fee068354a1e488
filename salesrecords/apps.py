from django.apps import AppConfig


class SalesrecordsConfig(AppConfig):
    name = "salesrecords"
    # "Sales › Sales records" in the breadcrumb, as the top bar's group.
    verbose_name = "Sales"

    def ready(self):
        from core.audit import json_keys_readable
        from individuals.custom_field_values import custom_fields_described

        from . import timeline

        timeline.register()  # sales records, workflow emails and activities on a client's timeline
        json_keys_readable("salesrecords.salesrecord.custom_fields", custom_fields_described)
