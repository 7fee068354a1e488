import pytest

from accounts.models import SecurityGroup
from accounts.seeded_groups import seed_security_groups


@pytest.mark.browser
def test_admin_edits_a_security_group_as_a_matrix(admin_login, agency_admin):
    seed_security_groups(SecurityGroup)  # the seeded groups, whatever a flush before this test left
    group = SecurityGroup.objects.get(name="Read Only")
    page = admin_login(agency_admin)

    page.goto(f"/admin/accounts/securitygroup/{group.pk}/change/")
    matrix = page.locator("#security-matrix")
    assert matrix.locator("tbody tr").count() == 8
    assert matrix.locator("tr[data-area=individuals] input[value='1']").is_checked()

    matrix.locator("tr[data-area=individuals] input[value='2']").check()
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")

    group.refresh_from_db()
    assert group.individuals == 2
