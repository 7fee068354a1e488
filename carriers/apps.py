from django.apps import AppConfig


class CarriersConfig(AppConfig):
    name = "carriers"
    verbose_name = "Carrier Connections"

    def ready(self):
        from integrations import decisions

        from .decisions import SOURCES

        for source in SOURCES:
            decisions.register(source)

        from . import story

        story.register()  # connections and open discrepancies on an employer group's page, and their history
