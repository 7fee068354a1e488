"""What the carrier knows about a group: built from the employer group's own data, with planted differences.

A test, the benchmark or the demo seeds a roster through ``POST /_sandbox/noyo/rosters`` (the sandbox
never reads the back office's database). The carrier's copy differs from the agency's on purpose —
shifted effective dates, another coverage tier, members the carrier has terminated, members it
lacks, members only it has, another email, a plan starting later — and the seed answers with the
list of what was planted, so a test can check that every difference is found and none invented.
"""

import random
import uuid
from datetime import date, timedelta

from .http import HTTPError

# Field names as AgencyDesk's comparison reports them (carriers.mapping uses the same words).
KINDS = ["effective_date", "coverage_tier", "termination_date", "missing_at_carrier", "email"]
OTHER_TIER = {"Standard": "Premium", "Premium": "Standard"}
MEMBER_FIELDS = {"custom_individual_id", "first_name", "last_name", "date_of_birth", "sex", "email", "hire_date", "terminated", "coverage_tier"}
PLAN_FIELDS = {"custom_plan_id", "name", "line_of_coverage", "plan_type", "effective_start_date", "effective_end_date"}
SCRIPT_FIELDS = {"not_ready_polls", "authorization_polls", "review", "unable", "emit_status"}


def _shift(value: str, days: int) -> str:
    return (date.fromisoformat(value) + timedelta(days=days)).isoformat()


def _check(rows, allowed: set[str], what: str) -> None:
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise HTTPError(400, "bad_request", f"{what} must be a list of objects.")
    for row in rows:
        unknown = set(row) - allowed
        if unknown:
            raise HTTPError(400, "bad_request", f"{what}: unknown fields {', '.join(sorted(unknown))}.")


def build(seed: dict) -> tuple[dict, list[dict]]:
    """The carrier's roster for one ``carrier_group_id`` and the differences planted in it."""
    if not str(seed.get("carrier_group_id") or "").strip():
        raise HTTPError(400, "bad_request", "carrier_group_id is required.")
    employees, plans = seed.get("employees") or [], seed.get("plans") or []
    _check(employees, MEMBER_FIELDS, "employees")
    _check(plans, PLAN_FIELDS, "plans")
    script = seed.get("script") or {}
    if not isinstance(script, dict) or set(script) - SCRIPT_FIELDS:
        raise HTTPError(400, "bad_request", f"script takes {', '.join(sorted(SCRIPT_FIELDS))}.")
    differences = seed.get("differences") or {}
    share, rng = float(differences.get("share", 0)), random.Random(differences.get("seed", 0))
    members = [dict(e) for e in employees]
    planted: list[dict] = []
    chosen = rng.sample(range(len(members)), round(share * len(members))) if share else []
    drop = set()
    for n, index in enumerate(sorted(chosen)):
        member, kind = members[index], KINDS[n % len(KINDS)]
        key = member["custom_individual_id"]
        if kind == "effective_date" and member.get("hire_date"):
            carrier = _shift(member["hire_date"], 31)
            planted.append({"custom_individual_id": key, "field": kind, "carrier_value": carrier, "distributor_value": member["hire_date"]})
            member["hire_date"] = carrier
        elif kind == "coverage_tier" and member.get("coverage_tier") in OTHER_TIER:
            carrier = OTHER_TIER[member["coverage_tier"]]
            planted.append({"custom_individual_id": key, "field": kind, "carrier_value": carrier, "distributor_value": member["coverage_tier"]})
            member["coverage_tier"] = carrier
        elif kind == "termination_date" and not member.get("terminated"):
            carrier = _shift(member.get("hire_date") or "2025-01-01", 400)
            planted.append({"custom_individual_id": key, "field": kind, "carrier_value": carrier, "distributor_value": ""})
            member["terminated"] = carrier
        elif kind == "missing_at_carrier":
            planted.append({"custom_individual_id": key, "field": "member", "kind": "missing_at_carrier"})
            drop.add(index)
        elif kind == "email" and member.get("email"):
            carrier = "carrier." + member["email"]
            planted.append({"custom_individual_id": key, "field": kind, "carrier_value": carrier, "distributor_value": member["email"]})
            member["email"] = carrier
    members = [m for i, m in enumerate(members) if i not in drop]
    for n in range(len(chosen) // len(KINDS)):  # members only the carrier has: no id of ours
        extra = {
            "first_name": f"Carrier{n}",
            "last_name": "Only",
            "date_of_birth": "1990-01-01",
            "sex": "U",
            "email": f"carrier-only-{n}@carrier.example",
            "hire_date": "2024-01-01",
            "coverage_tier": "Standard",
            # Ids are unique across the service: the seed's draw, named within this carrier group (the
            # same seed for another group gives other ids; the same roster seeded again, the same ones).
            "noyo_id": str(uuid.uuid5(uuid.UUID(int=rng.getrandbits(128), version=4), str(seed["carrier_group_id"]))),
        }
        members.append(extra)
        planted.append({"noyo_id": extra["noyo_id"], "field": "member", "kind": "missing_here"})
    plans = [dict(p) for p in plans]
    if share and plans and plans[0].get("effective_start_date"):
        carrier = _shift(plans[0]["effective_start_date"], 31)
        planted.append(
            {
                "custom_plan_id": plans[0].get("custom_plan_id", ""),
                "field": "plan_effective_date",
                "carrier_value": carrier,
                "distributor_value": plans[0]["effective_start_date"],
            }
        )
        plans[0]["effective_start_date"] = carrier
    roster = {
        "carrier_group_id": seed["carrier_group_id"],
        "group_name": seed.get("group_name") or "",
        "federal_ein": seed.get("federal_ein") or "",
        "script": script,
        "members": members,
        "plans": plans,
        "planted": planted,
    }
    return roster, planted
