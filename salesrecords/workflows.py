"""Sales workflows: which apply to new records, and their actions, set-based over a queryset of records.

``workflows_trigger(records=..., record_type_id=...)`` runs every active workflow of that type once
for each record in ``records`` (a queryset of records created in the current transaction) that
meets its criteria: set the stage, create activities, and queue emails (``WorkflowEmail``, a
``core.jobs.Job``). Emails go out from a task enqueued after commit (``workflow_emails_enqueue``), each
claimed first (``job_claim``) so it is sent once; the same task runs every minute from beat and sends
any left queued (a lost message), due for a retry, or whose sender died (``jobs_sweep``).
``validate_workflow`` is the one validation of a workflow (the service and the admin form call it).
"""

import datetime
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.template import TemplateSyntaxError, engines
from django.utils import timezone

from core.jobs import Status, job_claim, job_retry_at, job_settle, jobs_sweep
from individuals.filters import CRITERIA_VERSION, criteria_clean, criteria_filterset, criteria_load

from . import sql
from .models import SalesRecord, SalesWorkflow, SalesWorkflowRun, WorkflowEmail

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
        errors["criteria"] = [f"{k}: {' '.join(v)}" if k != "criteria" else " ".join(v) for k, v in exc.message_dict.items()]
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
            sql.insert_activities(
                workflow_id=workflow.pk, subject=workflow.activity_subject, due_date=activity_due_date(workflow, now), records=todo, now=now
            )
        counts[workflow.pk] = sql.insert_workflow_runs(workflow_id=workflow.pk, records=todo, send_email=workflow.send_email, now=now)
    return counts


def workflow_emails_enqueue() -> None:
    """After commit, a task sends the pending emails (the minute sweep catches any whose message is lost)."""
    from .tasks import workflow_emails_send_task

    transaction.on_commit(workflow_emails_send_task.delay)


def workflow_emails_send(*, batch: int = 500) -> int:
    """Send every workflow email that is due (queued, or retrying and its time came); the number sent.

    The outbox rows are ``core.jobs.Job`` rows (``WorkflowEmail``): each is claimed first (``job_claim``),
    so two senders never send the same email, and sent outside any transaction. A refused send is
    retrying, tried again ``SALESRECORDS_EMAIL_LEASE_SECONDS`` later, up to ``SALESRECORDS_EMAIL_MAX_TRIES``
    tries, then failed with the reason. First, the sweep (``jobs_sweep``) queues again the emails whose
    sender died mid-send (their lease ran out): this task is itself what runs the queued ones.
    """
    lease = settings.SALESRECORDS_EMAIL_LEASE_SECONDS
    jobs_sweep(WorkflowEmail, enqueue=lambda pk: None, queued_lease_seconds=lease)
    rows = WorkflowEmail.objects.select_related("run__workflow", "run__sales_record__assigned_user", "run__sales_record__record_type")
    sent, after = 0, 0
    while True:
        due = Q(status=Status.QUEUED) | Q(status=Status.RETRYING, next_try_at__lte=timezone.now())
        page = list(WorkflowEmail.objects.filter(due, pk__gt=after).order_by("pk").values_list("pk", flat=True)[:batch])
        if not page:
            return sent
        for pk in page:
            after = pk
            email = job_claim(rows, pk, lease_seconds=lease)
            if email is not None:  # else another sender has it
                sent += _deliver(email, lease=lease)


def _deliver(email: WorkflowEmail, *, lease: float) -> bool:
    """Send one claimed email and settle it: succeeded, retrying (refused) or failed (no address, or refused
    at the last try). Whether it was sent."""
    try:
        sent = _send(email.run)
    except Exception as exc:  # the record exists whatever the mail server says; log, and try again later
        logger.exception("workflow %s: email for sales record %s not sent", email.run.workflow_id, email.run.sales_record_id)
        refused = f"The mail server refused it: {str(exc)[:300] or type(exc).__name__}"
        now, tries = timezone.now(), settings.SALESRECORDS_EMAIL_MAX_TRIES
        if email.tries < tries:
            at = now + datetime.timedelta(seconds=lease)
            job_retry_at(
                email,
                at,
                reason=f"{refused} (try {email.tries} of {tries}; again at {timezone.localtime(at):%H:%M}).",
                lease_seconds=lease,
                since=email.retrying_since or now,
            )
        else:
            job_settle(email, Status.FAILED, reason=f"{refused} (gave up after {tries} tries).")
        return False
    if not sent:
        job_settle(email, Status.FAILED, reason="Nobody to send it to: the record has no such email address.")
        return False
    job_settle(email, Status.SUCCEEDED)
    return True


def _send(run: SalesWorkflowRun) -> bool:
    """Send the run's email: True when sent, False when there is nobody to send it to; raises when the mail
    server refuses it."""
    workflow, record = run.workflow, run.sales_record
    if workflow.email_to == SalesWorkflow.EmailTo.RECORD:
        to = record.secondary_email
    else:
        to = record.assigned_user.email if record.assigned_user else ""
    if not to:
        return False
    context = {"record": record, "workflow": workflow}
    subject = " ".join(_template(workflow.email_subject).render(context).split())
    body = _template(workflow.email_body).render(context)
    send_mail(subject, body, None, [to])
    return True
