"""``manage.py carriers_sandbox_seed --group ACCOUNT --carrier CODE --carrier-group-id ID [--share 0.05]``.

Tells the sandbox's carrier-connection service what the carrier knows about an employer group (its
employees and plans as AgencyDesk holds them, with ``--share`` of them made to differ), so a demo or a
test can connect the group and see every path. Sandbox only: a real service learns this from the carrier.
"""

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from hrsync.models import Employee
from plans.models import Carrier, EmployerGroup, Plan


def sandbox_roster(
    group: EmployerGroup, carrier: Carrier, carrier_group_id: str, *, share: float = 0.0, seed: int = 1, script: dict | None = None
) -> dict:
    """The seed: the group's active employees (our uuid as ``custom_individual_id``) and its plans with the carrier."""
    employees = [
        {
            "custom_individual_id": str(e.uuid),
            "first_name": e.first_name,
            "last_name": e.last_name,
            "date_of_birth": e.date_of_birth.isoformat() if e.date_of_birth else "",
            "sex": e.gender or "U",
            "email": e.email,
            "hire_date": e.hire_date.isoformat() if e.hire_date else "",
            "coverage_tier": e.benefits_level.name if e.benefits_level else "",
        }
        for e in Employee.objects.filter(employer_group=group, leave_date__isnull=True).select_related("benefits_level").order_by("pk")
    ]
    plans = [
        {
            "custom_plan_id": str(p.pk),
            "name": p.name,
            "line_of_coverage": p.line_of_coverage,
            "effective_start_date": p.effective_date.isoformat(),
            **({"effective_end_date": p.cancellation_date.isoformat()} if p.cancellation_date else {}),
        }
        for p in Plan.objects.filter(group=group, carrier=carrier).order_by("pk")
    ]
    return {
        "carrier_group_id": carrier_group_id,
        "group_name": group.name,
        "federal_ein": group.federal_ein,
        "employees": employees,
        "plans": plans,
        "differences": {"share": share, "seed": seed},
        "script": script or {},
    }


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def add_arguments(self, parser):
        parser.add_argument("--group", required=True, help="the employer group's account number")
        parser.add_argument("--carrier", required=True, help="the carrier's code")
        parser.add_argument("--carrier-group-id", required=True)
        parser.add_argument("--share", type=float, default=0.05, help="share of members made to differ (0-1)")
        parser.add_argument("--not-ready-polls", type=int, default=0)
        parser.add_argument("--authorization-polls", type=int, default=0)
        parser.add_argument("--review", action="store_true")
        parser.add_argument("--unable", action="store_true", help="the first attempt ends unable to connect")

    def handle(self, *args, **o):
        group = EmployerGroup.objects.filter(account_number=o["group"]).first()
        carrier = Carrier.objects.filter(code=o["carrier"]).first()
        if group is None or carrier is None:
            raise CommandError("No such employer group (account number) or carrier (code).")
        script = {k: o[k] for k in ("not_ready_polls", "authorization_polls", "review", "unable") if o[k]}
        body = sandbox_roster(group, carrier, o["carrier_group_id"], share=o["share"], script=script)
        reply = requests.post(f"{settings.SANDBOX_URL.rstrip('/')}/_sandbox/noyo/rosters", json=body, timeout=30)
        if reply.status_code >= 400:
            raise CommandError(f"The sandbox refused the roster: {reply.text}")
        data = reply.json()
        self.stdout.write(f"Seeded {data['members']} members for {o['carrier_group_id']}; {len(data['planted'])} differences planted.")
