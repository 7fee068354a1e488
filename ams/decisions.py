"""*Awaiting a person* (``integrations.decisions``): open identity conflicts, each with what it holds up."""

from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from integrations.decisions import Decision, DecisionSource
from integrations.models import ExternalId

from .models import IdentityConflict

KIND = "Identity conflict"


def _open():
    return IdentityConflict.objects.filter(status=IdentityConflict.Status.OPEN)


def identity_conflict_count() -> int:
    return _open().count()


def identity_conflict_decisions(limit: int) -> list[Decision]:
    """The open conflicts, oldest first: the record that keeps the far-side id is not kept in step
    with that system until a person merges the two or keeps them apart."""
    conflicts = list(_open().select_related("content_type").order_by("created_at", "pk")[:limit])
    by_type: dict[int, set] = {}
    for conflict in conflicts:
        by_type.setdefault(conflict.content_type_id, set()).update((conflict.object_id, conflict.other_object_id))
    records = {}
    for content_type_id, ids in by_type.items():
        model = ContentType.objects.get_for_id(content_type_id).model_class()
        records.update({(content_type_id, pk): obj for pk, obj in model._default_manager.in_bulk(ids).items()})
    systems = dict(ExternalId.System.choices)
    rows = []
    for conflict in conflicts:
        kept = records.get((conflict.content_type_id, conflict.object_id))
        other = records.get((conflict.content_type_id, conflict.other_object_id))
        name = str(kept) if kept is not None else f"{conflict.content_type.name} #{conflict.object_id}"
        system = systems.get(conflict.system, conflict.system)
        system = system if system.isupper() else system[0].lower() + system[1:]
        rows.append(
            Decision(
                kind=KIND,
                title=f"{conflict.get_kind_display()}: {conflict.external_id}",
                blocks=f"{name} is not kept in step with the {system}" + (f" (nor is {other})" if other is not None else ""),
                opened_at=conflict.created_at,
                url=reverse("admin:ams_identityconflict_change", args=[conflict.pk]),
                impact=1 + (other is not None),
            )
        )
    return rows


SOURCE = DecisionSource(
    key="identity_conflicts",
    kind=KIND,
    permission="ams.view_identityconflict",
    url="admin:ams_identityconflict_changelist",
    count=identity_conflict_count,
    rows=identity_conflict_decisions,
)
