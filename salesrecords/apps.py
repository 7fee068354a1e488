from django.apps import AppConfig


class SalesrecordsConfig(AppConfig):
    name = "salesrecords"

    def ready(self):
        from . import timeline

        timeline.register()  # sales records, workflow emails and activities on a client's timeline
