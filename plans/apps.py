from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "plans"
    # "Employer groups & plans › Plans" in the breadcrumb, as the top bar's group.
    verbose_name = "Employer groups & plans"

    def ready(self):
        from . import timeline

        timeline.register()  # the group's and its plans' edits on the group's timeline
