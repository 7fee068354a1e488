"""The discrepancy comparison: a connected group of N members (default 10,000) with 5% of them differing.

Seeded set-based in SQL: N employees, and the carrier's copy of them as pulled rows, where every 20th
member differs in one of five ways in turn (effective date, coverage tier, terminated at the carrier,
missing at the carrier, email), plus N/100 members only the carrier has.

Figures:
- the comparison (``carriers.services.discrepancies_compare``: one query per kind, batched upserts)
  against the same comparison as ONE plain SQL statement over the same rows through psycopg (goal <= 3x);
- the comparing process's peak memory (VmHWM of a fresh process) at 10N against N (goal <= 1.25: flat);
- every planted difference found, none invented.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

from bench.report import figure
from bench.setup import vacuum_analyze

DEFAULT = 10_000
BENCH = "discrepancies"
ROOT = Path(__file__).resolve().parent.parent

KIND = "CASE WHEN e.rn %% 20 = 0 THEN (e.rn / 20) %% 5 ELSE -1 END"  # in SQL with parameters
PLAIN = """
WITH m AS (SELECT cm.*, e.hire_date AS o_hire, e.leave_date AS o_leave, e.date_of_birth AS o_dob, e.first_name AS o_first,
                  e.last_name AS o_last, e.email AS o_email, bl.name AS o_tier
           FROM carriers_carriermember cm JOIN hrsync_employee e ON e.id = cm.employee_id
           LEFT JOIN hrsync_benefitslevel bl ON bl.id = e.benefits_level_id WHERE cm.connection_id = %(c)s)
SELECT 'effective_date', noyo_id, hire_date::text, o_hire::text FROM m WHERE hire_date IS DISTINCT FROM o_hire
UNION ALL SELECT 'termination_date', noyo_id, terminated_date::text, o_leave::text FROM m WHERE terminated_date IS DISTINCT FROM o_leave
UNION ALL SELECT 'coverage_tier', noyo_id, coverage_tier, o_tier FROM m WHERE coverage_tier <> coalesce(o_tier, '')
UNION ALL SELECT 'date_of_birth', noyo_id, date_of_birth::text, o_dob::text FROM m WHERE date_of_birth IS DISTINCT FROM o_dob
UNION ALL SELECT 'first_name', noyo_id, first_name, o_first FROM m WHERE first_name <> o_first
UNION ALL SELECT 'last_name', noyo_id, last_name, o_last FROM m WHERE last_name <> o_last
UNION ALL SELECT 'email', noyo_id, email, o_email FROM m WHERE email <> o_email
UNION ALL SELECT 'member', e.id::text, '', 'present' FROM hrsync_employee e WHERE e.employer_group_id = %(g)s
    AND e.leave_date IS NULL AND NOT EXISTS (SELECT 1 FROM carriers_carriermember cm WHERE cm.connection_id = %(c)s AND cm.employee_id = e.id)
UNION ALL SELECT 'member', noyo_id, 'present', '' FROM carriers_carriermember WHERE connection_id = %(c)s
    AND employee_id IS NULL AND terminated_date IS NULL
"""


def _seed(size: int):
    """A fresh group of ``size`` employees, a completed connection, the carrier's rows; returns the connection."""
    from django.db import connection as db
    from django.utils import timezone

    from carriers.models import CarrierConnection
    from hrsync.models import BenefitsLevel
    from plans.models import Carrier, EmployerGroup

    name = f"bench-discrepancies-{size}"
    CarrierConnection.objects.filter(employer_group__name=name).delete()
    with db.cursor() as cursor:
        cursor.execute("DELETE FROM hrsync_employee WHERE employer_group_id IN (SELECT id FROM plans_employergroup WHERE name = %s)", [name])
    EmployerGroup.objects.filter(name=name).delete()
    group = EmployerGroup.objects.create(name=name, account_number=f"BENCH-D-{size}", federal_ein="12-3456789")
    carrier, _ = Carrier.objects.get_or_create(code="bench-carrier", defaults={"name": "Bench Carrier"})
    standard, _ = BenefitsLevel.objects.get_or_create(name="Standard", defaults={"package_code": "STANDARD"})
    premium, _ = BenefitsLevel.objects.get_or_create(name="Premium", defaults={"package_code": "PREMIUM"})
    connection = CarrierConnection.objects.create(
        employer_group=group,
        carrier=carrier,
        noyo_carrier_id="00000000-0000-4000-8000-000000000001",
        connection_id=f"bench-{size}-{time.time_ns()}"[:36],
        group_id="bench",
        carrier_group_id="B",
        group_name=name,
        federal_ein="12-3456789",
        status="completed",
        status_since=timezone.now(),
    )
    with db.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO hrsync_employee (uuid, employer_group_id, first_name, last_name, email, date_of_birth, gender, hire_date,
                annual_pay, pay_frequency, benefits_level_id, benefits_account_id, sync_state, change_version, synced_version,
                created_at, updated_at)
            SELECT gen_random_uuid(), %s, 'First' || i, 'Last' || i, 'e' || i || '@bench.example', DATE '1970-01-01' + (i %% 9000),
                   'F', DATE '2015-01-01' + (i %% 3000), 50000, 'monthly', CASE WHEN i %% 2 = 0 THEN %s ELSE %s END, '',
                   'not_syncing', 0, 0, now(), now()
            FROM generate_series(1, %s) AS i""",
            [group.pk, standard.pk, premium.pk, size],
        )
        cursor.execute(
            f"""
            INSERT INTO carriers_carriermember (connection_id, noyo_id, custom_individual_id, employee_id, first_name, last_name,
                date_of_birth, email, hire_date, terminated_date, employment_status, coverage_tier, pulled_at)
            SELECT %s, gen_random_uuid()::text, e.uuid::text, e.id, e.first_name, e.last_name, e.date_of_birth,
                   CASE WHEN k = 4 THEN 'carrier.' || e.email ELSE e.email END,
                   CASE WHEN k = 0 THEN e.hire_date + 31 ELSE e.hire_date END,
                   CASE WHEN k = 2 THEN e.hire_date + 400 END, 'full-time',
                   CASE WHEN k = 1 THEN CASE bl.name WHEN 'Standard' THEN 'Premium' ELSE 'Standard' END ELSE bl.name END, now()
            FROM (SELECT e.*, {KIND} AS k FROM (SELECT *, row_number() OVER (ORDER BY id) AS rn FROM hrsync_employee
                                                WHERE employer_group_id = %s) e) e
            JOIN hrsync_benefitslevel bl ON bl.id = e.benefits_level_id
            WHERE k <> 3""",
            [connection.pk, group.pk],
        )
        cursor.execute(
            """
            INSERT INTO carriers_carriermember (connection_id, noyo_id, custom_individual_id, first_name, last_name, email,
                employment_status, coverage_tier, pulled_at)
            SELECT %s, gen_random_uuid()::text, '', 'Carrier', 'Only' || i, 'only' || i || '@carrier.example', 'full-time',
                   'Standard', now() FROM generate_series(1, %s) AS i""",
            [connection.pk, max(1, size // 100)],
        )
    vacuum_analyze("hrsync_employee", "carriers_carriermember", "carriers_discrepancy")  # each run reseeds them
    return connection


def _planted(connection) -> set[tuple[str, str]]:
    """What the seed planted, read from the seeding rule (not from the comparison)."""
    from django.db import connection as db

    fields = {0: "effective_date", 1: "coverage_tier", 2: "termination_date", 4: "email"}
    with db.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT k, e.id, cm.noyo_id FROM (SELECT e.*, {KIND} AS k FROM (SELECT *, row_number() OVER (ORDER BY id) AS rn
                   FROM hrsync_employee WHERE employer_group_id = %s) e) e
            LEFT JOIN carriers_carriermember cm ON cm.employee_id = e.id AND cm.connection_id = %s WHERE k >= 0""",
            [connection.employer_group_id, connection.pk],
        )
        planted = {("member", f"employee:{pk}") if k == 3 else (fields[k], f"member:{noyo}") for k, pk, noyo in cursor.fetchall()}
        cursor.execute("SELECT noyo_id FROM carriers_carriermember WHERE connection_id = %s AND employee_id IS NULL", [connection.pk])
        planted |= {("member", f"member:{noyo}") for (noyo,) in cursor.fetchall()}
    return planted


def _compare_seconds(connection, repeat: int = 5) -> float:
    from carriers.models import Discrepancy
    from carriers.services import discrepancies_compare

    times = []
    for _ in range(repeat):
        Discrepancy.objects.filter(connection=connection).delete()
        start = time.perf_counter()
        discrepancies_compare(connection=connection)
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def _plain_seconds(connection, repeat: int = 5) -> float:
    from bench.setup import psycopg_connect

    times = []
    with psycopg_connect() as conn:
        for _ in range(repeat):
            start = time.perf_counter()
            conn.execute(PLAIN, {"c": connection.pk, "g": connection.employer_group_id}).fetchall()
            times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def _peak_mb_in_fresh_process(connection) -> float:
    """The comparison run in a fresh process (as a worker would); its VmHWM in MB."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.discrepancies", str(connection.pk)], cwd=ROOT, env=os.environ, capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def run(size: int = DEFAULT) -> list[dict]:
    from carriers.models import Discrepancy

    print(f"Seeding a group of {size} members and one of {size * 10}...")
    small, large = _seed(size), _seed(size * 10)
    planted = _planted(small)
    ours = _compare_seconds(small)
    plain = _plain_seconds(small)
    found = set(Discrepancy.objects.filter(connection=small).values_list("field", "subject_key"))
    peak_small, peak_large = _peak_mb_in_fresh_process(small), _peak_mb_in_fresh_process(large)
    print(f"bench {BENCH}: N={size}, {len(planted)} planted differences")
    return [
        figure(BENCH, f"comparison of {size} members vs one plain SQL statement", value=ours, unit="s", limit=plain, goal=3.0),
        figure(BENCH, f"comparing process peak memory at {size * 10} vs {size}", value=peak_large, unit="MB", limit=peak_small, goal=1.25),
        figure(BENCH, "planted differences found", value=len(found & planted), unit="rows", limit=len(planted), goal=1.0, better="higher"),
        figure(BENCH, "differences invented (found, not planted)", value=len(found - planted), unit="rows", limit=len(planted), goal=0.0),
    ]


def _child(connection_id: int) -> None:
    from carriers.models import CarrierConnection
    from carriers.services import discrepancies_compare

    discrepancies_compare(connection=CarrierConnection.objects.get(pk=connection_id))
    with open("/proc/self/status") as status:
        peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    print(peak_kb / 1024)


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    from bench.setup import setup_django

    setup_django()
    _child(int(sys.argv[1]))
