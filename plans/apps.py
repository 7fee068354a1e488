from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "plans"

    def ready(self):
        from . import timeline

        timeline.register()  # the group's and its plans' edits on the group's timeline
