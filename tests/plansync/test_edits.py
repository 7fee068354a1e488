"""A plan edited here is queued for its group's run on commit; open conflicts wait in *Awaiting a person*."""

import pytest
from django.urls import reverse

from accounts.rights import Level
from integrations.decisions import decisions_for
from plans.services import plan_renew, plan_update
from plansync.models import PlanChoice, PlanSyncConflict, PlanSyncRun
from plansync.services import Row, conflict_resolve
from tests.plansync.factories import SyncedPlanFactory, choose, import_account, sync

pytestmark = pytest.mark.django_db


def _synced(benefitpoint, name="Edited here"):
    link = import_account(40002)
    plan = SyncedPlanFactory(group=link.group, name=name)
    choose(link, Row(plan=plan, choice="create_there"))
    assert sync(link).status == "succeeded"
    return link, plan, PlanChoice.objects.get(plan=plan).product_id


def test_a_plan_edit_reaches_the_benefits_admin_system_on_commit(benefitpoint, django_capture_on_commit_callbacks):
    link, plan, product_id = _synced(benefitpoint)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        plan_update(actor=None, plan=plan, data={"name": "Renamed here"})
    run = PlanSyncRun.objects.get(link=link, trigger=PlanSyncRun.Trigger.EDIT)
    assert run.status == "queued" and len(queued) == 1  # the row with the edit, its message after commit
    assert benefitpoint.product(product_id)["name"] == "Edited here"
    queued[0]()  # the commit: the message is sent (and run eagerly)
    run.refresh_from_db()
    assert run.status == "succeeded" and benefitpoint.product(product_id)["name"] == "Renamed here"


def test_edits_while_a_run_waits_join_it_and_the_syncs_own_writes_queue_nothing(benefitpoint):
    link, plan, product_id = _synced(benefitpoint)
    plan_update(actor=None, plan=plan, data={"name": "First edit"})
    plan_update(actor=None, plan=plan, data={"name": "Second edit"})
    assert PlanSyncRun.objects.filter(link=link, status="queued").count() == 1
    benefitpoint.edit(product_id, policyNumber="FROM-THERE")
    run = sync(link)  # pulls the policy number here: a write of the sync's own
    assert run.status == "succeeded" and run.trigger == PlanSyncRun.Trigger.EDIT
    assert not PlanSyncRun.objects.filter(link=link, status="queued").exists()
    plan.refresh_from_db()
    assert plan.policy_number == "FROM-THERE" and benefitpoint.product(product_id)["name"] == "Second edit"


def test_a_renewal_here_and_a_plan_not_synced_queue_as_they_should(benefitpoint):
    link, plan, _ = _synced(benefitpoint)
    other = SyncedPlanFactory(group=link.group, name="Not synced")
    plan_update(actor=None, plan=other, data={"name": "Still not synced"})
    assert not PlanSyncRun.objects.filter(link=link, status="queued").exists()
    plan_renew(actor=None, plan=plan)
    assert PlanSyncRun.objects.filter(link=link, status="queued", trigger=PlanSyncRun.Trigger.EDIT).count() == 1


def test_open_conflicts_are_decisions_awaiting_a_person(benefitpoint, make_user):
    link, plan, product_id = _synced(benefitpoint)
    benefitpoint.edit(product_id, name="Their name")
    plan_update(actor=None, plan=plan, data={"name": "Our name"})
    sync(link)
    conflict = PlanSyncConflict.objects.get(status="open")
    viewer = make_user(plans=Level.VISIBLE)
    (decision,) = [d for d in decisions_for(viewer) if d.kind == "Plan-sync conflict"]
    plan.refresh_from_db()
    assert decision.blocks == f"Plan {plan} does not sync its plan name"  # "Plan Our name (2026–2027) ..."
    assert decision.title == f"{plan} ({link.group.name}): plan name changed on both sides"
    assert decision.url == reverse("admin:plansync_plansyncconflict_change", args=[conflict.pk])
    assert decision.opened_at == conflict.created_at
    assert not [d for d in decisions_for(make_user()) if d.kind == "Plan-sync conflict"]  # no right to see plans
    conflict_resolve(actor=None, conflict=conflict, resolution="benefits_admin")
    assert not [d for d in decisions_for(viewer) if d.kind == "Plan-sync conflict"]


def test_the_decisions_link_opens_the_conflict_with_its_resolve_buttons(benefitpoint, admin_client):
    link, plan, product_id = _synced(benefitpoint)
    benefitpoint.edit(product_id, name="Their name")
    plan_update(actor=None, plan=plan, data={"name": "Our name"})
    sync(link)
    conflict = PlanSyncConflict.objects.get(status="open")
    page = admin_client.get(reverse("admin:plansync_plansyncconflict_change", args=[conflict.pk])).content.decode()
    assert "Take the benefits-admin system&#x27;s value" in page and "Their name" in page
    assert reverse("admin:plansync_plansyncconflict_resolve", args=[conflict.pk]) in page
