from django.apps import AppConfig


class PlansyncConfig(AppConfig):
    name = "plansync"
    verbose_name = "Benefits-admin link"

    def ready(self):
        from accounts.rights import MODEL_AREAS, Area
        from integrations import decisions
        from plans.services.plans import plan_changed_subscribe

        from . import timeline
        from .selectors import conflict_decisions, open_conflict_count
        from .services import plan_changed

        # The benefits-admin link belongs to Employer Groups & Plans: Visible lists, Edit acts.
        MODEL_AREAS.setdefault("plansync", Area.PLANS)
        # A plan edited here is queued for its group's next run, after commit (the hourly pass stays the safety net).
        plan_changed_subscribe(plan_changed)
        # Open conflicts wait in *Awaiting a person* with every other decision a sync leaves.
        decisions.register(
            decisions.DecisionSource(
                key="plansync_conflicts",
                kind="Plan-sync conflict",
                permission="plansync.view_plansyncconflict",
                url="admin:plansync_plansyncconflict_changelist",
                count=open_conflict_count,
                rows=conflict_decisions,
            )
        )
        timeline.register()  # its runs on the employer group's timeline
