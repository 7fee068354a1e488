"""Job pages and Benefits Management follow the work live (htmx), and their titles follow the status."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.urls import reverse

from hrsync.models import Employee
from individuals.models import ExportJob
from salesrecords.models import MassCreationJob
from tests.hrsync.factories import EmployeeFactory
from tests.salesrecords.factories import MassCreationJobFactory

ROOT = Path(__file__).resolve().parent.parent.parent


def test_a_running_job_page_polls_its_live_part_and_a_finished_one_stops(client, agency_admin):
    client.force_login(agency_admin)
    job = MassCreationJobFactory(status=MassCreationJob.Status.RUNNING, matched=10, processed=4, created_by=agency_admin)
    url = reverse("admin:salesrecords_masscreationjob_progress", args=[job.pk])
    html = client.get(reverse("admin:salesrecords_masscreationjob_change", args=[job.pk])).content.decode()
    assert f'hx-get="{url}"' in html and "(Running)</h1>" in html and 'id="job-error"' not in html
    MassCreationJob.objects.filter(pk=job.pk).update(status=MassCreationJob.Status.SUCCEEDED, processed=10, created=10)
    part = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "(Succeeded)</h1>" in part and "hx-get" not in part and 'style="width: 100%"' in part
    assert client.get(url).json()["status"] == "succeeded"  # programs still get JSON


def test_an_export_job_page_follows_its_status_and_shows_no_empty_error_box(client, agency_admin):
    client.force_login(agency_admin)
    job = ExportJob.objects.create(owner=agency_admin, criteria={"state": ["FL"]}, status=ExportJob.Status.RUNNING)
    url = reverse("admin:individuals_exportjob_change", args=[job.pk])
    html = client.get(url).content.decode()
    assert f"Export #{job.pk} (Running)</h1>" in html and f'hx-get="{url}"' in html and "errornote" not in html
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.FAILED, reason="The disk is full.")
    part = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "(Failed)</h1>" in part and "The disk is full." in part and "hx-get" not in part


def test_benefits_management_tabs_refresh_only_while_employees_are_in_progress(client, agency_admin):
    client.force_login(agency_admin)
    employee = EmployeeFactory()
    changelist = reverse("admin:hrsync_employee_changelist")
    assert "hx-get" not in client.get(changelist).content.decode()
    Employee.objects.filter(pk=employee.pk).update(sync_state=Employee.SyncState.IN_PROGRESS)
    html = client.get(changelist).content.decode()
    assert f'hx-get="{reverse("admin:hrsync_employee_sync_tabs")}' in html
    Employee.objects.filter(pk=employee.pk).update(sync_state=Employee.SyncState.SUCCESSFUL)
    part = client.get(reverse("admin:hrsync_employee_sync_tabs"), HTTP_HX_REQUEST="true").content.decode()
    assert "hx-get" not in part and 'data-tab="successful">Successful <span class="count">1</span>' in part


@pytest.mark.browser
def test_the_job_page_title_and_counts_change_in_the_browser_when_the_job_finishes(admin_login, agency_admin):
    job = MassCreationJobFactory(status=MassCreationJob.Status.RUNNING, matched=8, processed=2, created_by=agency_admin)
    page = admin_login(agency_admin)
    page.goto(reverse("admin:salesrecords_masscreationjob_change", args=[job.pk]))
    assert "(Running)" in page.locator("#job-title").inner_text()
    MassCreationJob.objects.filter(pk=job.pk).update(status=MassCreationJob.Status.SUCCEEDED, processed=8, created=8)
    page.wait_for_function("document.getElementById('job-title').textContent.includes('(Succeeded)')")
    assert page.locator("#job-created").inner_text() == "8"
    assert "(Succeeded)" in page.title()


def _supervise():
    import importlib.util

    spec = importlib.util.spec_from_file_location("supervise", ROOT / "bin" / "supervise.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _wait_for(check, seconds=30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"not within {seconds} s: {check}")


def test_bin_run_restarts_a_process_that_dies_and_says_which_and_why(tmp_path):
    """bin/run's supervisord, from a Procfile: the embedded broker answers, a program killed with SIGKILL is
    started again with a line naming it and the signal, its output is prefixed with its name, Ctrl-C stops all."""
    procfile = tmp_path / "Procfile"
    procfile.write_text(f"sleeper: {sys.executable} -c \"import time; print('up', flush=True); time.sleep(600)\"\n")
    conf = tmp_path / "supervisord.conf"
    conf.write_text(_supervise().conf(tmp_path, procfile, embedded_broker=True))
    bin_dir = Path(sys.executable).parent
    supervisord = subprocess.Popen([bin_dir / "supervisord", "-c", conf], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def ctl(*args: str) -> str:
        return subprocess.run([bin_dir / "supervisorctl", "-c", conf, *args], capture_output=True, text=True).stdout.strip()

    try:
        _wait_for(lambda: ctl("pid").isdigit())
        ctl("start", "app:*")
        first = int(_wait_for(lambda: ctl("pid", "app:sleeper").strip("0") and ctl("pid", "app:sleeper")))
        broker = redis.Redis(unix_socket_path=str(tmp_path / "redis" / "redis.sock"))
        assert _wait_for(lambda: _pings(broker))
        os.kill(first, signal.SIGKILL)
        second = int(_wait_for(lambda: ctl("pid", "app:sleeper") not in ("0", str(first)) and ctl("pid", "app:sleeper")))
        assert second != first and "RUNNING" in ctl("status", "broker")
        _wait_for(lambda: "sleeper entered RUNNING" in (tmp_path / "log" / "supervisord.log").read_text().split("exited:")[-1])
    finally:
        supervisord.send_signal(signal.SIGINT)
        output = supervisord.communicate(timeout=60)[0].decode()
    assert "exited: sleeper (terminated by SIGKILL; not expected)" in output
    assert "spawned: 'sleeper'" in output and output.count("sleeper | up") == 2
    assert "stopped: broker" in output and supervisord.returncode == 0


def _pings(client) -> bool:
    try:
        return client.ping()
    except redis.ConnectionError:
        return False
