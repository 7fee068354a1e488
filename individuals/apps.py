from django.apps import AppConfig


class IndividualsConfig(AppConfig):
    name = "individuals"

    def ready(self):
        from . import timeline

        timeline.register()
