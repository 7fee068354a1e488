from django.apps import AppConfig


class AmsConfig(AppConfig):
    name = "ams"
    verbose_name = "Agency management system"

    def ready(self):
        from integrations import decisions
        from integrations.ownership import fields_owned_by

        from .decisions import SOURCE
        from .mapping import CUSTOMER, GROUP_FIELDS, INDIVIDUAL_FIELDS, POLICY, POLICY_FIELDS, SYSTEM

        fields_owned_by(system=SYSTEM, object_type=CUSTOMER, model="individuals.individual", fields=INDIVIDUAL_FIELDS)
        fields_owned_by(system=SYSTEM, object_type=CUSTOMER, model="plans.employergroup", fields=GROUP_FIELDS)
        fields_owned_by(system=SYSTEM, object_type=POLICY, model="individuals.policy", fields=POLICY_FIELDS)
        decisions.register(SOURCE)

        from . import timeline

        timeline.register()  # its syncs and notifications on a client's and a group's timeline
