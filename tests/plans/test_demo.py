import io

import pytest

from plans import demo
from plans.models import EmployerGroup, Plan

pytestmark = pytest.mark.django_db


def test_demo_loads_groups_with_plans_across_lines_and_is_idempotent():
    demo.load(io.StringIO())
    plans = Plan.objects.count()
    assert EmployerGroup.objects.count() == demo.GROUPS
    assert set(Plan.objects.values_list("line_of_coverage", flat=True)) >= {"medical", "dental", "vision", "life"}
    assert Plan.objects.values("carrier").distinct().count() >= 10
    assert not EmployerGroup.objects.filter(plans__isnull=True).exists()
    names = list(EmployerGroup.objects.values_list("name", flat=True))
    assert len(set(names)) == len(names) == demo.GROUPS  # no two demo groups of one name

    demo.load(io.StringIO())
    assert EmployerGroup.objects.count() == demo.GROUPS and Plan.objects.count() == plans
