"""A background export never sits silently: an error fails the job with the reason."""

import pytest
from django.core.exceptions import ValidationError

from individuals.models import ExportJob
from individuals.services.exports import export_job_run
from tests.individuals.factories import IndividualFactory

pytestmark = pytest.mark.django_db


def test_an_export_job_that_cannot_run_is_failed_with_the_reason(agency_admin):
    IndividualFactory(state="FL")
    job = ExportJob.objects.create(owner=agency_admin, criteria={"state": ["ZZ"]})  # stored before a rule changed

    with pytest.raises(ValidationError):  # the worker logs it; the job must say why
        export_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == ExportJob.Status.FAILED and job.finished_at is not None
    assert "ZZ" in job.reason or "state" in job.reason
    assert not job.file_path
