import io

import pytest

from carriers import demo
from carriers.forms import ConnectForm
from integrations.registry import System, external_ids_for
from plans.models import Carrier

pytestmark = pytest.mark.django_db


def test_the_demo_gives_every_active_carrier_its_id_at_the_service_so_connect_offers_them_by_name():
    assert list(ConnectForm().fields["carrier"].queryset) == []  # none known: nothing to pick (the page says why)
    demo.load(io.StringIO())
    demo.load(io.StringIO())  # idempotent
    carriers = Carrier.objects.filter(active=True)
    assert carriers.exists()
    assert all(external_ids_for(c)[System.CARRIER_EXCHANGE].external_id == demo.demo_carrier_id(c) for c in carriers)
    offered = [c.name for c in ConnectForm().fields["carrier"].queryset]
    assert sorted(offered) == sorted(carriers.values_list("name", flat=True))  # every one, by name
