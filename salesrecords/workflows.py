"""Sales workflows: which apply to new records, and their actions, set-based over a queryset of records.

``workflows_trigger(records=..., record_type_id=...)`` runs every active workflow of that type once
for each record in ``records`` (a queryset of records created in the current transaction) that
meets its criteria: set the stage, create activities, and mark emails as pending. Emails go out
from a task enqueued after commit (``workflow_emails_enqueue``), each claimed by a conditional update
so it is sent once; a beat sweep every minute sends any left pending (a lost message, a dead sender).
``validate_workflow`` is the one validation of a workflow (the service and the admin form call it).
"""
import datetime
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.template import TemplateSyntaxError, engines
from django.utils import timezone

from individuals.filters import CRITERIA_VERSION, criteria_clean, criteria_filterset, criteria_load

from . import sql
from .models import SalesRecord, SalesWorkflow, SalesWorkflowRun

logger = logging.getLogger(__name__)


def _template(text: str):
    return engines["django"].from_string(text)


def validate_workflow(workflow: SalesWorkflow) -> None:
    """Criteria must be a valid advanced search, templates must compile, and some action must be chosen.

    Personal data in the criteria is replaced by its keyed hash (as on saved searches and jobs): a
    workflow row never holds a clear SSN / MBI / driver's license.
    """
    errors = {}
    try:
        workflow.criteria, workflow.criteria_version = criteria_clean(workflow.criteria), CRITERIA_VERSION
    except ValidationError as exc:
        errors["criteria"] = [f"{k}: {' '.join(v)}" if k != "criteria" else " ".join(v)
                              for k, v in exc.message_dict.items()]
    if not (workflow.create_activity or workflow.send_email or workflow.set_stage):
        errors["__all__"] = ["Choose at least one action: create an activity, send an email or set the stage."]
    if workflow.create_activity and not workflow.activity_subject.strip():
        errors["activity_subject"] = ["An activity needs a subject."]
    if workflow.send_email:
        for name in ("email_subject", "email_body"):
            text = getattr(workflow, name)
            if not text.strip():
                errors[name] = ["Required to send an email."]
                continue
            try:
                _template(text)
            except TemplateSyntaxError as exc:
                errors[name] = [f"Template error: {exc}"]
    if errors:
        raise ValidationError(errors)


def applicable_workflows(record_type_id: int) -> list[SalesWorkflow]:
    """Active workflows for a type (those with no types apply to all), in name order."""
    workflows = SalesWorkflow.objects.filter(active=True).prefetch_related("record_types")
    return [w for w in workflows if not w.record_types.all() or any(t.pk == record_type_id for t in w.record_types.all())]


def runnable_workflows(workflows: list[SalesWorkflow]) -> list[tuple[SalesWorkflow, QuerySet | None]]:
    """Each workflow that can run, with the individuals its criteria select (None: no criteria, all).

    A workflow whose criteria became invalid (a custom field or carrier it names was removed) is
    skipped with a warning.
    """
    runnable = []
    for workflow in workflows:
        individuals = None
        if workflow.criteria:
            try:
                matching = criteria_filterset(criteria_load(workflow.criteria, workflow.criteria_version)).qs
            except ValidationError as exc:  # a custom field or carrier it names was removed since
                logger.warning("workflow %s skipped: invalid criteria %s", workflow.pk, exc.message_dict)
                continue
            individuals = matching.order_by().values("pk")
        runnable.append((workflow, individuals))
    return runnable


def activity_due_date(workflow: SalesWorkflow, now) -> datetime.date:
    return timezone.localdate(now) + datetime.timedelta(days=workflow.activity_due_days)


def workflows_trigger(*, records: QuerySet, workflows: list[SalesWorkflow], now=None, fresh: bool = False) -> dict[int, int]:
    """Run ``workflows`` once on each record of ``records`` meeting their criteria; {workflow id: records run}.

    A few statements per workflow, whatever the number of records. Call inside the transaction
    that created the records. ``fresh``: the records were inserted by this very transaction, so no
    run can exist yet and the anti-join is skipped (the unique pair still guards it). (On PostgreSQL
    mass creation folds the same actions into its insert: ``sql.insert_sales_records(workflows=...)``.)
    """
    now = now or timezone.now()
    counts = {}
    for workflow, individuals in runnable_workflows(workflows):
        todo = records
        if not fresh:
            todo = todo.filter(~Exists(SalesWorkflowRun.objects.filter(workflow=workflow, sales_record=OuterRef("pk"))))
        if individuals is not None:
            todo = todo.filter(individual__in=individuals)
        if workflow.set_stage:
            SalesRecord.objects.filter(pk__in=todo.values("pk")).update(stage=workflow.set_stage, updated_at=now)
        if workflow.create_activity:
            sql.insert_activities(workflow_id=workflow.pk, subject=workflow.activity_subject,
                                  due_date=activity_due_date(workflow, now), records=todo, now=now)
        counts[workflow.pk] = sql.insert_workflow_runs(workflow_id=workflow.pk, records=todo,
                                                       email_pending=workflow.send_email, now=now)
    return counts


def workflow_emails_enqueue() -> None:
    """After commit, a task sends the pending emails (the minute sweep catches any whose message is lost)."""
    from .tasks import workflow_emails_send_task

    transaction.on_commit(workflow_emails_send_task.delay)


def workflow_emails_send(*, batch: int = 500) -> int:
    """Send every pending workflow email nobody is sending: new ones, and those whose sender died; the number sent.

    Each run is claimed first (``email_claimed_at``, a conditional update), so two senders never send
    the same email; a claim older than ``SALESRECORDS_EMAIL_LEASE_SECONDS`` is taken again. A failed
    send stays pending for the sweep, up to ``SALESRECORDS_EMAIL_MAX_TRIES`` tries.
    """
    lease = timezone.now() - datetime.timedelta(seconds=settings.SALESRECORDS_EMAIL_LEASE_SECONDS)
    claimable = Q(email_pending=True) & (Q(email_claimed_at__isnull=True) | Q(email_claimed_at__lt=lease))
    sent, after = 0, 0
    while True:
        page = list(SalesWorkflowRun.objects.filter(claimable, pk__gt=after)
                    .select_related("workflow", "sales_record__assigned_user", "sales_record__record_type")
                    .order_by("pk")[:batch])
        if not page:
            return sent
        for run in page:
            after = run.pk
            if not SalesWorkflowRun.objects.filter(claimable, pk=run.pk).update(
                    email_claimed_at=timezone.now(), email_tries=F("email_tries") + 1):
                continue  # another sender has it
            outcome = _send(run)
            if outcome is False and run.email_tries + 1 < settings.SALESRECORDS_EMAIL_MAX_TRIES:
                continue  # left claimed: the sweep tries again after the lease
            SalesWorkflowRun.objects.filter(pk=run.pk).update(email_pending=False)
            sent += bool(outcome)


def _send(run: SalesWorkflowRun) -> bool | None:
    """True: sent; None: nobody to send it to; False: the mail server refused (logged)."""
    workflow, record = run.workflow, run.sales_record
    if workflow.email_to == SalesWorkflow.EmailTo.RECORD:
        to = record.secondary_email
    else:
        to = record.assigned_user.email if record.assigned_user else ""
    if not to:
        return None
    context = {"record": record, "workflow": workflow}
    subject = " ".join(_template(workflow.email_subject).render(context).split())
    body = _template(workflow.email_body).render(context)
    try:
        send_mail(subject, body, None, [to])
    except Exception:  # the record exists whatever the mail server says; log, and the sweep tries again
        logger.exception("workflow %s: email for sales record %s not sent", workflow.pk, record.pk)
        return False
    return True
