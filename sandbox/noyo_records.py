"""A completed connection's group data as the contract shapes it: enrolments, plans, employees, discrepancies."""

import json
import uuid

# Planted differences the service reports itself (the rest only the agency's comparison finds).
SERVICE_REPORTED = {"coverage_tier", "termination_date"}


def _id() -> str:
    return str(uuid.uuid4())


def _employee(member: dict, group_id: str, now: int) -> dict:
    dates = {"hire_date": member.get("hire_date") or "2020-01-01"}
    if member.get("terminated"):
        dates["terminated"] = member["terminated"]
    out = {
        "id": member.get("noyo_id") or _id(),
        "version": _id(),
        "created": now,
        "modified": now,
        "group_id": group_id,
        "person": {
            "first_name": member.get("first_name") or "",
            "last_name": member.get("last_name") or "",
            "date_of_birth": member.get("date_of_birth") or "1970-01-01",
            "sex": member.get("sex") or "U",
            "home_address": None,
            **({"contact": {"email_address": member["email"], "email_address_type": "work"}} if member.get("email") else {}),
        },
        "employment": {"employment_dates": dates, "hours_worked": 40, "employment_status": "terminated" if member.get("terminated") else "full-time"},
        "classifications": {"coverage_tier": member.get("coverage_tier") or ""},
    }
    if member.get("custom_individual_id"):
        out["custom_individual_id"] = member["custom_individual_id"]
    return out


def group_records(connection: dict, roster: dict, now: int) -> list[tuple]:
    """Rows for the ``record`` table: (kind, id, group_id, custom_id, status, data)."""
    group_id, carrier_id = connection["group_id"], connection["carrier_id"]
    rows, by_custom_id, by_noyo_id = [], {}, {}
    for plan in roster["plans"]:
        data = {"id": _id(), "group_id": group_id, "carrier_id": carrier_id, "status": "active", **plan}
        rows.append(("plan", data["id"], group_id, plan.get("custom_plan_id", ""), "active", data))
    lines = {}
    for plan in roster["plans"]:
        line = lines.setdefault(plan["line_of_coverage"], dict(plan))
        line["effective_start_date"] = min(line.get("effective_start_date") or "9999", plan.get("effective_start_date") or "9999")
    for line, plan in lines.items():
        data = {
            "id": _id(),
            "version": _id(),
            "group_id": group_id,
            "carrier_id": carrier_id,
            "line_of_coverage": line,
            "status": "active",
            "effective_start_date": plan["effective_start_date"] if plan["effective_start_date"] != "9999" else None,
            "effective_end_date": plan.get("effective_end_date"),
            "created": now,
            "modified": now,
        }
        rows.append(("enrollment", data["id"], group_id, "", "active", data))
    for member in roster["members"]:
        data = _employee(member, group_id, now)
        rows.append(("employee", data["id"], group_id, data.get("custom_individual_id", ""), data["employment"]["employment_status"], data))
        if member.get("custom_individual_id"):
            by_custom_id[member["custom_individual_id"]] = data["id"]
        by_noyo_id[data["id"]] = data
    for planted in roster["planted"]:
        subject = by_custom_id.get(planted.get("custom_individual_id", "")) or (planted["noyo_id"] if planted.get("noyo_id") in by_noyo_id else None)
        if subject is None:
            continue
        if planted["field"] in SERVICE_REPORTED:
            kind, body = "employee_field_mismatch", {k: planted[k] for k in ("field", "carrier_value", "distributor_value")}
        elif planted.get("kind") == "missing_here":
            kind, body = "member_missing_from_distributor", {"field": "member", "carrier_value": "present", "distributor_value": ""}
        else:
            continue
        data = {
            "id": _id(),
            "version": _id(),
            "group_id": group_id,
            "carrier_id": carrier_id,
            "status": "needs_review",
            "discrepancy_type": kind,
            "subject_id": subject,
            "subject_type": "employee",
            "context": body["field"],
            "body": body,
            "created": now,
            "modified": now,
        }
        rows.append(("discrepancy", data["id"], group_id, "", "needs_review", data))
    return [(kind, rid, gid, custom, status, json.dumps(data)) for kind, rid, gid, custom, status, data in rows]
