"""The benefits platform: employees' benefits accounts, versioned JSON under ``/benefits/v1/``.

Validates like a real platform (required fields, known packages, one account per email) and honours
``Idempotency-Key`` on writes: a successful response is stored under its key and replayed, so the
same key never makes a second account. Refusals are not stored: a corrected retry may succeed.
"""

import json
import re
from datetime import UTC, date, datetime

from .demo_accounts import DEMO_ACCOUNTS, PACKAGES
from .http import HTTPError, Request, Response

PREFIX = "/benefits/v1"
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
GENDERS = {"F", "M", "X", "U"}
PAY_FREQUENCIES = {"weekly", "biweekly", "semimonthly", "monthly"}
REQUIRED = ["email", "first_name", "last_name", "date_of_birth", "hire_date", "benefits_package"]
FIELDS = [*REQUIRED, "gender", "annual_salary", "pay_frequency", "employer_reference"]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _date(value, name: str, errors: dict) -> None:
    try:
        date.fromisoformat(str(value))
    except ValueError:
        errors[name] = f"'{value}' is not a date (YYYY-MM-DD)"


def validate(data: dict, *, partial: bool) -> dict:
    unknown = sorted(set(data) - set(FIELDS))
    errors: dict[str, str] = dict.fromkeys(unknown, "is not a field of a benefits account")
    # Every field is a scalar: a list or object is refused before any check compares or stores it.
    errors.update({k: "must be text, a number or null" for k, v in data.items() if k in FIELDS and isinstance(v, (list, dict))})
    data = {k: v for k, v in data.items() if k not in errors}
    for name in REQUIRED:
        if name in errors:
            continue
        if not partial and not str(data.get(name) or "").strip():
            errors[name] = "is required"
        elif partial and name in data and not str(data.get(name) or "").strip():
            errors[name] = "may not be blank"
    if data.get("email") and not EMAIL_RE.match(str(data["email"])):
        errors["email"] = f"'{data['email']}' is not an email address"
    for name in ("date_of_birth", "hire_date"):
        if data.get(name):
            _date(data[name], name, errors)
    if data.get("date_of_birth") and "date_of_birth" not in errors and date.fromisoformat(str(data["date_of_birth"])) >= date.today():
        errors["date_of_birth"] = "must be in the past"
    if data.get("benefits_package") and data["benefits_package"] not in PACKAGES:
        errors["benefits_package"] = f"'{data['benefits_package']}' is not a known benefits package ({', '.join(PACKAGES)})"
    if data.get("gender") and data["gender"] not in GENDERS:
        errors["gender"] = f"must be one of {', '.join(sorted(GENDERS))}"
    if data.get("pay_frequency") and data["pay_frequency"] not in PAY_FREQUENCIES:
        errors["pay_frequency"] = f"must be one of {', '.join(sorted(PAY_FREQUENCIES))}"
    if data.get("annual_salary") not in (None, ""):
        try:
            if float(data["annual_salary"]) < 0:
                errors["annual_salary"] = "may not be negative"
        except (TypeError, ValueError):
            errors["annual_salary"] = "must be a number"
    if errors:
        message = "; ".join(f"{k}: {v}" for k, v in errors.items())
        raise HTTPError(422, "validation_failed", f"The account is invalid: {message}.", errors)
    return {k: ("" if v is None and k not in ("annual_salary",) else v) for k, v in data.items()}


def _public(row: dict) -> dict:
    return {k: row[k] for k in ("id", *FIELDS, "status", "coverage_end_date", "created_at", "updated_at")}


def _email_taken(db, email: str, own_id: str | None) -> None:
    row = db.execute("SELECT id FROM benefit_account WHERE lower(email) = lower(?)", [email]).fetchone()
    if row and row["id"] != own_id:
        raise HTTPError(409, "email_in_use", f"The email {email} is already used by another account ({row['id']}).")


class BenefitsPlatform:
    def __init__(self, store):
        self.store = store

    def routes(self, router) -> None:
        router.add("GET", f"{PREFIX}/packages", self.packages)
        router.add("GET", f"{PREFIX}/accounts", self.find)
        router.add("POST", f"{PREFIX}/accounts", self.create)
        router.add("GET", f"{PREFIX}/accounts/(?P<id>[A-Z0-9-]+)", self.get)
        router.add("PATCH", f"{PREFIX}/accounts/(?P<id>[A-Z0-9-]+)", self.update)
        router.add("POST", f"{PREFIX}/accounts/(?P<id>[A-Z0-9-]+)/end-coverage", self.end_coverage)

    def seed(self) -> None:
        """Demo accounts, when the database has none (a restart keeps what is there)."""
        if self.store.one("SELECT 1 AS x FROM benefit_account LIMIT 1"):
            return
        with self.store.tx() as db:
            for account in DEMO_ACCOUNTS:
                self._insert(db, account)

    # --- handlers -------------------------------------------------------------------------------
    def packages(self, request: Request) -> Response:
        return Response.json({"results": [{"code": k, "name": v} for k, v in PACKAGES.items()]})

    def find(self, request: Request) -> Response:
        email = request.query.get("email", "").strip()
        if not email:
            raise HTTPError(400, "bad_request", "Search needs an email: /accounts?email=...")
        rows = self.store.all("SELECT * FROM benefit_account WHERE lower(email) = lower(?)", [email])
        return Response.json({"count": len(rows), "results": [_public(r) for r in rows]})

    def get(self, request: Request) -> Response:
        return Response.json(_public(self._row(request.params["id"])))

    def create(self, request: Request) -> Response:
        data = validate(request.json(), partial=False)
        return self._idempotent(request, lambda db: (201, _public(self._insert(db, data))))

    def update(self, request: Request) -> Response:
        data = validate(request.json(), partial=True)

        def write(db):
            row = self._row(request.params["id"], db)
            if data.get("email"):
                _email_taken(db, data["email"], row["id"])
            merged = {**row, **data, "updated_at": _now()}
            validate({k: merged[k] for k in FIELDS}, partial=False)
            sets = ", ".join(f"{k} = ?" for k in [*data, "updated_at"])
            db.execute(f"UPDATE benefit_account SET {sets} WHERE id = ?", [*data.values(), merged["updated_at"], row["id"]])  # noqa: S608
            return 200, _public(merged)

        return self._idempotent(request, write)

    def end_coverage(self, request: Request) -> Response:
        body = request.json()
        end = body.get("coverage_end_date")
        errors: dict = {}
        if not end:
            errors["coverage_end_date"] = "is required"
        else:
            _date(end, "coverage_end_date", errors)
        if errors:
            raise HTTPError(422, "validation_failed", f"coverage_end_date: {errors['coverage_end_date']}.", errors)
        end = date.fromisoformat(str(end)).isoformat()  # compared and stored as YYYY-MM-DD text

        def write(db):
            row = self._row(request.params["id"], db)
            if end < row["hire_date"]:
                raise HTTPError(
                    422,
                    "validation_failed",
                    f"Coverage can't end ({end}) before the hire date ({row['hire_date']}).",
                    {"coverage_end_date": "is before the hire date"},
                )
            now = _now()
            db.execute(
                "UPDATE benefit_account SET status = 'coverage_ended', coverage_end_date = ?, updated_at = ? WHERE id = ?", [end, now, row["id"]]
            )
            return 200, _public({**row, "status": "coverage_ended", "coverage_end_date": end, "updated_at": now})

        return self._idempotent(request, write)

    # --- helpers --------------------------------------------------------------------------------
    def _row(self, account_id: str, db=None) -> dict:
        if db is not None:
            row = db.execute("SELECT * FROM benefit_account WHERE id = ?", [account_id]).fetchone()
            row = dict(row) if row else None
        else:
            row = self.store.one("SELECT * FROM benefit_account WHERE id = ?", [account_id])
        if row is None:
            raise HTTPError(404, "not_found", f"No benefits account {account_id}.")
        return row

    def _insert(self, db, data: dict) -> dict:
        _email_taken(db, data["email"], None)
        now = _now()
        row = {k: data.get(k, "") for k in FIELDS}
        row["annual_salary"] = data.get("annual_salary")
        cursor = db.execute(
            f"INSERT INTO benefit_account (id, {', '.join(FIELDS)}, created_at, updated_at) "  # noqa: S608
            f"VALUES ('pending', {', '.join('?' for _ in FIELDS)}, ?, ?)",
            [*row.values(), now, now],
        )
        account_id = f"ACC-{cursor.lastrowid:07d}"
        db.execute("UPDATE benefit_account SET id = ? WHERE seq = ?", [account_id, cursor.lastrowid])
        return {"id": account_id, **row, "status": "active", "coverage_end_date": None, "created_at": now, "updated_at": now}

    def _idempotent(self, request: Request, write) -> Response:
        """Run ``write(db)`` in one transaction; with an Idempotency-Key, replay a stored success."""
        key = request.header("Idempotency-Key")
        scope = f"{request.header('Authorization')}|{request.method} {request.path}"
        with self.store.tx() as db:
            if key:
                stored = db.execute("SELECT status, body FROM idempotency WHERE scope = ? AND key = ?", [scope, key]).fetchone()
                if stored:
                    return Response.json(json.loads(stored["body"]), stored["status"], [("Idempotent-Replayed", "true")])
            status, body = write(db)
            if key:
                db.execute("INSERT INTO idempotency (scope, key, status, body) VALUES (?, ?, ?, ?)", [scope, key, status, json.dumps(body)])
        return Response.json(body, status)
