from django.apps import AppConfig


class HrsyncConfig(AppConfig):
    name = "hrsync"
    verbose_name = "Benefits Sync"

    def ready(self):
        from integrations import decisions

        from .selectors import data_to_fix_decisions, employees_with_data_to_fix

        # Employees whose data must be fixed before they can be sent: listed *Awaiting a person*.
        decisions.register(
            decisions.DecisionSource(
                key="hrsync_data_to_fix",
                kind="Benefits sync: data to fix",
                permission="hrsync.view_employee",
                url="admin:hrsync_employee_changelist",
                count=lambda: employees_with_data_to_fix().count(),
                rows=data_to_fix_decisions,
            )
        )

        from . import timeline

        timeline.register()  # its employees' syncs on the employer group's timeline
