"""Seed N individuals (and ~1.5 policies each) for benchmarks: set-based, minutes for a million.

PostgreSQL: ``INSERT ... SELECT generate_series`` in chunks, personal data from a pool of real
ciphertexts; other databases: ``bulk_create``. Adds to what is there; ``--truncate`` empties first.
"""

import time

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from individuals.bulk_data import (
    CITIES,
    COVERAGE,
    FIRST,
    LAST,
    LEAD_SOURCES,
    STATUS,
    bulk_generate,
    ensure_reference_data,
    personal_data_pool,
)
from individuals.models import Individual

CHUNK = 100_000


INDIVIDUALS_SQL = """
INSERT INTO individuals_individual (
    first_name, middle_name, last_name, nickname, title, servicing_agent_id, record_status, email, secondary_email,
    cell_phone, home_phone, address_type, address_line1, address_line2, city, county, zip_code, state, gender,
    date_of_birth, lead_source, medicare_part_a_effective, medicare_part_b_effective, smoker_status,
    ssn_encrypted, ssn_hash, ssn_last4, medicare_beneficiary_id_encrypted, medicare_beneficiary_id_hash,
    medicare_beneficiary_id_last4, drivers_license_encrypted, drivers_license_hash, drivers_license_last4,
    custom_fields, created_at, updated_at)
SELECT f.first, '', l.last, '', '', CASE WHEN a.n > 0 AND g %% 5 <> 0 THEN a.ids[1 + g %% a.n] END,
       (ARRAY['active','active','active','active','active','active','active','prospect','prospect','inactive'])[1 + g %% 10],
       lower(f.first || '.' || l.last || g || '@example.com'), '',
       '555-' || lpad((g %% 1000)::text, 3, '0') || '-' || lpad((g %% 10000)::text, 4, '0'), '',
       'home', (g %% 9999 + 1) || ' ' || l.last || ' St', '', c.city, c.county,
       c.zip3 || lpad((g %% 100)::text, 2, '0'), c.state,
       CASE WHEN g %% 2 = 0 THEN 'female' ELSE 'male' END,
       d.dob, (%(lead)s::text[])[1 + g %% %(nlead)s],
       CASE WHEN d.dob < DATE '1961-01-01' THEN (date_trunc('month', d.dob) + interval '65 years')::date END,
       CASE WHEN d.dob < DATE '1961-01-01' THEN (date_trunc('month', d.dob) + interval '65 years')::date END,
       (ARRAY['non_smoker','non_smoker','non_smoker','smoker','former'])[1 + g %% 5],
       p.ssn_encrypted, p.ssn_hash, p.ssn_last4,
       CASE WHEN d.dob < DATE '1961-01-01' THEN p.mbi_encrypted ELSE '' END,
       CASE WHEN d.dob < DATE '1961-01-01' THEN p.mbi_hash ELSE '' END,
       CASE WHEN d.dob < DATE '1961-01-01' THEN p.mbi_last4 ELSE '' END,
       p.dl_encrypted, p.dl_hash, p.dl_last4,
       jsonb_strip_nulls(jsonb_build_object(
           'client_tier', (ARRAY['Gold','Silver','Bronze',NULL])[1 + g %% 4],
           'newsletter', CASE WHEN g %% 3 = 0 THEN to_jsonb(g %% 2 = 0) END,
           'annual_review', CASE WHEN g %% 5 = 0 THEN to_jsonb(to_char(DATE '2026-01-01' + (g %% 365)::int, 'YYYY-MM-DD')) END)),
       now(), now()
FROM generate_series(%(start)s, %(stop)s) AS g
CROSS JOIN LATERAL (SELECT (%(first)s::text[])[1 + (hashint8(g * 4) & 2147483647) %% %(nfirst)s] AS first) f
CROSS JOIN LATERAL (SELECT (%(last)s::text[])[1 + (hashint8(g * 4 + 1) & 2147483647) %% %(nlast)s] AS last) l
CROSS JOIN LATERAL (SELECT (DATE '1935-01-01' + ((hashint8(g * 4 + 2) & 2147483647) %% 18250)::int) AS dob) d
JOIN seed_cities c ON c.i = (hashint8(g * 4 + 3) & 2147483647) %% %(ncities)s
JOIN seed_pool p ON p.i = g %% %(npool)s
CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids, count(*)::int AS n FROM accounts_agent) a
"""

# A first policy for 9 in 10 individuals, a second for 4 in 10, a third for 1 in 10: ~1.4 per individual.
POLICIES_SQL = """
INSERT INTO individuals_policy (individual_id, carrier_id, policy_number, coverage_type, status, effective_date,
                                renewal_date, termination_date, premium, created_at, updated_at)
SELECT i.id, cr.ids[1 + (hashint8(i.id * 8 + k) & 2147483647) %% cr.n], 'P' || i.id || '-' || k,
       (%(coverage)s::text[])[1 + (hashint8(i.id * 8 + k + 3) & 2147483647) %% %(ncoverage)s],
       s.status,
       e.effective, e.effective + ((greatest(1, 2026 - extract(year FROM e.effective)::int)) * 365),
       CASE WHEN s.status = 'terminated' THEN e.effective + 400 END,
       ((i.id * 37 + k) %% 40000) / 100.0, now(), now()
FROM individuals_individual i
CROSS JOIN generate_series(1, 3) AS k
CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids, count(*)::int AS n FROM plans_carrier) cr
CROSS JOIN LATERAL (SELECT (%(status)s::text[])[1 + (hashint8(i.id * 8 + k + 5) & 2147483647) %% %(nstatus)s] AS status) s
CROSS JOIN LATERAL (SELECT DATE '2018-01-01' + ((hashint8(i.id * 8 + k + 7) & 2147483647) %% 2920)::int AS effective) e
WHERE i.id BETWEEN %(first_id)s AND %(last_id)s
  AND (k = 1 AND i.id %% 10 <> 0 OR k = 2 AND i.id %% 2 = 0 AND i.id %% 10 <> 0 OR k = 3 AND i.id %% 10 = 3)
"""


class Command(BaseCommand):
    help = "Seed N individuals with policies, set-based (for benchmarks)"

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=100_000)
        parser.add_argument("--truncate", action="store_true", help="delete all individuals and policies first")

    def handle(self, *args, count, truncate, **options):
        started = time.monotonic()
        if truncate:
            self._truncate()
        if connection.vendor != "postgresql":
            bulk_generate(count, seed=count, stdout=self.stdout)
        else:
            self._seed_postgresql(count)
        self.stdout.write(
            self.style.SUCCESS(
                f"{Individual.objects.count() if count < 200_000 else 'many'} individuals, seeded {count} in {time.monotonic() - started:.0f}s"
            )
        )

    def _truncate(self):
        # Plain DELETEs, not TRUNCATE ... CASCADE: that would silently empty other apps' tables too;
        # rows that other apps still reference make this fail instead.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM individuals_policy")
            cursor.execute("DELETE FROM individuals_individual")

    def _seed_postgresql(self, count):
        ensure_reference_data()
        pool = personal_data_pool()
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE IF NOT EXISTS seed_pool (i int PRIMARY KEY, ssn_encrypted text, ssn_hash text, "
                "ssn_last4 text, mbi_encrypted text, mbi_hash text, mbi_last4 text, dl_encrypted text, "
                "dl_hash text, dl_last4 text)"
            )
            cursor.execute("TRUNCATE seed_pool")
            cursor.executemany(
                "INSERT INTO seed_pool VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                [
                    (
                        i,
                        p["ssn"]["encrypted"],
                        p["ssn"]["hash"],
                        p["ssn"]["last4"],
                        p["medicare_beneficiary_id"]["encrypted"],
                        p["medicare_beneficiary_id"]["hash"],
                        p["medicare_beneficiary_id"]["last4"],
                        p["drivers_license"]["encrypted"],
                        p["drivers_license"]["hash"],
                        p["drivers_license"]["last4"],
                    )
                    for i, p in enumerate(pool)
                ],
            )
            cursor.execute("CREATE TEMP TABLE IF NOT EXISTS seed_cities (i int PRIMARY KEY, city text, county text, state text, zip3 text)")
            cursor.execute("TRUNCATE seed_cities")
            cursor.executemany(
                "INSERT INTO seed_cities VALUES (%s,%s,%s,%s,%s)",
                [(i, city, county, state, zip3[:3]) for i, (city, county, state, zip3) in enumerate(CITIES)],
            )
            cursor.execute("SELECT coalesce(max(id), 0) FROM individuals_individual")
            base = cursor.fetchone()[0]
        params = {
            "first": FIRST,
            "nfirst": len(FIRST),
            "last": LAST,
            "nlast": len(LAST),
            "ncities": len(CITIES),
            "npool": len(pool),
            "lead": LEAD_SOURCES,
            "nlead": len(LEAD_SOURCES),
        }
        done = 0
        while done < count:
            n = min(CHUNK, count - done)
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT coalesce(max(id), 0) FROM individuals_individual")
                first_id = cursor.fetchone()[0] + 1
                cursor.execute(INDIVIDUALS_SQL, {**params, "start": base + done + 1, "stop": base + done + n})
                cursor.execute("SELECT coalesce(max(id), 0) FROM individuals_individual")
                last_id = cursor.fetchone()[0]
                cursor.execute(
                    POLICIES_SQL,
                    {
                        "coverage": COVERAGE,
                        "ncoverage": len(COVERAGE),
                        "status": STATUS,
                        "nstatus": len(STATUS),
                        "first_id": first_id,
                        "last_id": last_id,
                    },
                )
            done += n
            self.stdout.write(f"  individuals: {done}/{count}")
        # As autovacuum leaves a table in use: statistics, and the visibility map that lets the planner
        # answer a policy search from the covering index alone (without it, it walks the name index).
        # VACUUM cannot run inside a transaction (a test's): statistics only, then.
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
        with connection.cursor() as cursor:
            cursor.execute(f"{command} individuals_individual")
            cursor.execute(f"{command} individuals_policy")
