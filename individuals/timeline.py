"""This app's lines of a client's timeline (``core.timeline``): its audit rows and the exports that included it.

Registered from ``IndividualsConfig.ready()``; syncs, notifications and sales activity come from the apps
that do them (``ams``, ``salesrecords``), registered the same way.
"""

from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Q
from django.db.models.functions import Cast

from core import display, timeline

from .models import ExportJob, Individual, Policy
from .selectors import individual_matches

MODEL = "individuals.individual"
EXPORTS_READ = 50  # the latest exports checked for a client (their criteria against the record as it is now)


def _own(individual) -> Q:
    return Q(content_type=ContentType.objects.get_for_model(Individual), object_id=str(individual.pk))


def _policies(individual) -> Q:
    ids = Policy.objects.filter(individual_id=individual.pk).values_list(Cast("pk", CharField()))
    return Q(content_type=ContentType.objects.get_for_model(Policy), object_id__in=ids)


def _policy_prefix(row) -> str:
    return f"Policy {row.object_repr}: "


def _exports(individual, *, user, kinds, limit, before) -> list[timeline.Entry]:
    """The latest finished exports whose search finds the client: two queries (the jobs, one match)."""
    jobs = list(
        ExportJob.objects.filter(status=ExportJob.Status.SUCCEEDED, finished_at__isnull=False)
        .select_related("owner")
        .order_by("-finished_at", "-id")[:EXPORTS_READ]
    )
    if not jobs:
        return []
    found = individual_matches(individual=individual, stored=[(j.criteria, j.criteria_version) for j in jobs])
    return [
        timeline.Entry(
            at=job.finished_at,
            kind="export",
            title=f"In a CSV export of {display.number_text(job.row_count)} individual{'' if job.row_count == 1 else 's'} (export #{job.pk})"
            + (" with full personal data" if job.reveal else ""),
            by=timeline.person_name(job.owner),
            source="job",
        )
        for job, included in zip(jobs, found, strict=True)
        if included
    ][:limit]


def register() -> None:
    timeline.register(
        timeline.audit_source(key="individual_audit", model=MODEL, kinds=("edit", "other"), permission="individuals.view_individual", where=_own)
    )
    timeline.register(
        timeline.audit_source(
            key="policy_audit",
            model=MODEL,
            kinds=("edit", "other"),
            permission="individuals.view_policy",
            where=_policies,
            prefix=_policy_prefix,
        )
    )
    # Who revealed or searched a client's personal data is for auditors.
    timeline.register(
        timeline.audit_source(key="personal_data", model=MODEL, kinds=("personal_data",), permission="accounts.view_auditlog", where=_own)
    )
    timeline.register(timeline.Source(key="exports", model=MODEL, kinds=("export",), permission="individuals.view_individual", entries=_exports))
