from django.apps import AppConfig

SHORT_NAMES = {"ams": "AMS", "benefits_admin": "Benefits admin", "crm": "CRM"}


class IntegrationsConfig(AppConfig):
    name = "integrations"

    def ready(self):
        from django.urls import reverse

        from core import home, timeline

        from . import decisions
        from .models import ExternalId

        # How a timeline and a value's provenance name the system whose sync made a change ("from AMS").
        timeline.SYSTEMS.update({**dict(ExternalId.System.choices), **SHORT_NAMES})

        def rows(request):
            url = reverse("awaiting")
            return [
                home.HomeRow(source.kind, url=f"{url}?kind={source.key}", count=count, tone="failed")
                for source in decisions.sources_for(request.user)
                if (count := source.count())
            ]

        # The one home panel for every decision: shown to anyone who may see one of its sources.
        home.register(
            home.Panel(
                key="awaiting",
                section=home.AWAITING,
                title="Awaiting a person",
                permission=lambda user: bool(decisions.sources_for(user)),
                rows=rows,
                empty="Nothing is waiting for a person.",
                more_url=lambda request: reverse("awaiting"),
            )
        )
