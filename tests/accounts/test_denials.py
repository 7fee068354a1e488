"""A 403 names the missing right, in the API and the admin, and leaves no traceback in the log."""

import logging

from accounts.rights import Flag, Level, denial_message


def test_api_403_names_the_missing_level_and_area(make_user, api_as):
    viewer = make_user(individuals=Level.VISIBLE)
    response = api_as(viewer).post("/api/individuals/", {"first_name": "A", "last_name": "B"})
    assert response.status_code == 403
    assert response.json() == {"detail": "You need Edit on Individuals to add individuals."}


def test_api_403_for_reading_names_visible(make_user, api_as):
    response = api_as(make_user()).get("/api/employer-groups/")
    assert response.status_code == 403
    assert response.json()["detail"] == "You need Visible on Employer Groups & Plans to see employer groups."


def test_api_403_for_a_flag(make_user, api_as):
    response = api_as(make_user(administration=Level.DELETE)).post("/api/users/", {"username": "x"})
    assert response.json()["detail"] == "You need the right “Manage users and security groups” to add users."


def test_a_read_only_log_says_so():
    class Anyone:
        def has_perm(self, perm):
            return False

    assert denial_message(Anyone(), ["accounts.change_auditlog"]) == "Nobody may change audit logs."


def test_admin_403_page_names_the_right_without_a_traceback(client, make_user, caplog):
    client.force_login(make_user(individuals=Level.VISIBLE))
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get("/admin/individuals/individual/add/")
    assert response.status_code == 403
    assert "You need Edit on Individuals to add individuals." in response.content.decode()
    records = [r for r in caplog.records if r.name == "django.request"]
    assert records and all(r.exc_info is None for r in records)


def test_admin_change_page_posted_without_edit(client, make_user):
    from tests.accounts.factories import AgentFactory

    agent = AgentFactory()
    client.force_login(make_user(administration=Level.VISIBLE))
    response = client.post(f"/admin/accounts/agent/{agent.pk}/change/", {"first_name": "Z", "last_name": "Y"})
    assert response.status_code == 403
    assert "You need Edit on Administration to change agents." in response.content.decode()


def test_a_service_reason_reaches_the_api(make_user, settings, api_as):
    # individuals_import refuses with its own reason: the API keeps it rather than a bare "not permitted"
    viewer = make_user(individuals=Level.VISIBLE)
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("i.csv", b"first_name,last_name\nA,B\n")
    response = api_as(viewer).post("/api/individuals/import/", {"file": upload, "dry_run": "true"}, format="multipart")
    assert response.status_code == 403
    assert "add and change" in response.json()["detail"]


def test_full_personal_data_flag_is_named(make_user):
    assert denial_message(make_user(), ["accounts.view_full_personal_data"]) == "You need the right “View full personal data”."
    assert not denial_message(make_user(flags={Flag.VIEW_FULL_PERSONAL_DATA}), ["accounts.view_full_personal_data"])
