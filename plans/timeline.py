"""This app's lines of an employer group's timeline (``core.timeline``): the group's and its plans' audit rows.

Registered from ``PlansConfig.ready()``; syncs, connections and employees' syncs come from the apps that do
them (``ams``, ``carriers``, ``hrsync``).
"""

from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Q
from django.db.models.functions import Cast

from core import timeline

from .models import EmployerGroup, Plan

MODEL = "plans.employergroup"


def _own(group) -> Q:
    return Q(content_type=ContentType.objects.get_for_model(EmployerGroup), object_id=str(group.pk))


def _plans(group) -> Q:
    ids = Plan.objects.filter(group_id=group.pk).values_list(Cast("pk", CharField()))
    return Q(content_type=ContentType.objects.get_for_model(Plan), object_id__in=ids)


def register() -> None:
    view = "plans.view_employergroup"
    timeline.register(timeline.audit_source(key="group_audit", model=MODEL, kinds=("edit", "other"), permission=view, where=_own))
    timeline.register(
        timeline.audit_source(
            key="plan_audit", model=MODEL, kinds=("edit", "other"), permission=view, where=_plans, prefix=lambda row: f"Plan {row.object_repr}: "
        )
    )
