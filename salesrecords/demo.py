"""Demo data for sales records: a workflow, and one finished "Create Sales Records…" job (idempotent)."""

from accounts.models import User
from accounts.services import record_save

from .models import MassCreationJob, SalesRecordType, SalesWorkflow
from .services import mass_creation_run

DEMO_CRITERIA = {"record_status": ["prospect"], "state": ["FL"]}


def load(stdout) -> None:
    renewal = SalesRecordType.objects.get(name="Renewal")
    if not SalesWorkflow.objects.filter(name="Call new renewals").exists():
        workflow = record_save(
            actor=None,
            instance=SalesWorkflow(
                name="Call new renewals", create_activity=True, activity_subject="Call about the renewal", activity_due_days=3, set_stage="new"
            ),
        )
        workflow.record_types.set([renewal])
    if not MassCreationJob.objects.exists():
        actor = User.objects.filter(username="agency_admin").first()
        job = MassCreationJob.objects.create(created_by=actor, criteria=DEMO_CRITERIA, record_type=renewal)
        mass_creation_run(job_id=job.pk)  # in-process: the demo is ready when the command ends
    job = MassCreationJob.objects.order_by("pk").first()
    stdout.write(f"Sales records: job #{job.pk} created {job.created} renewals from a search (Florida prospects)")
