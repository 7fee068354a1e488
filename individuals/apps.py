from django.apps import AppConfig


class IndividualsConfig(AppConfig):
    name = "individuals"
    # The breadcrumb reads "Clients › Individuals" (the top bar's group), not "Individuals › Individuals".
    verbose_name = "Clients"

    def ready(self):
        from core.audit import json_keys_readable

        from . import timeline
        from .custom_field_values import custom_fields_described

        timeline.register()
        # A custom-field edit is audited as "Income: $35,000.00 → $40,000.00", one line per field that changed.
        json_keys_readable("individuals.individual.custom_fields", custom_fields_described)
