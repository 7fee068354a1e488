"""Issue 22, item 6: Read Only is refused (403) before anything is validated or looked up."""

import pytest

from accounts.models import SecurityGroup
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def read_only(api_as):
    return api_as(UserFactory(security_group=SecurityGroup.objects.get(name="Read Only")))


def test_read_only_linking_an_id_is_a_403_not_a_400_naming_fields(read_only):
    assert read_only.get("/api/external-ids/").status_code == 200
    reply = read_only.post("/api/external-ids/", {}, format="json")
    assert reply.status_code == 403, reply.json()
    assert "record_type" not in reply.json()


@pytest.mark.parametrize("decision", ["merge", "separate"])
def test_read_only_deciding_a_conflict_is_a_403_not_a_404(read_only, decision):
    assert read_only.get("/api/identity-conflicts/").status_code == 200
    assert read_only.post(f"/api/identity-conflicts/999999/{decision}/").status_code == 403
