from django.apps import AppConfig


class PlansyncConfig(AppConfig):
    name = "plansync"
    verbose_name = "Benefits-admin link"

    def ready(self):
        from accounts.rights import MODEL_AREAS, Area

        # The benefits-admin link belongs to Employer Groups & Plans: Visible lists, Edit acts.
        MODEL_AREAS.setdefault("plansync", Area.PLANS)
