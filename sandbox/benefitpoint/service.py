"""The benefits-administration system (BenefitPoint's BrokerConnect v4 subset) over SOAP 1.1.

Login gives a session id that every BrokerConnect call carries in ``SessionIdHeader``. Business
outcomes are ``Result{success, ID, errors[]}``; transport failures and bad requests are SOAP
faults (HTTP 500). Like the real service it has no idempotency keys: a create whose response was
lost exists all the same. Its own SQLite file; fault knobs under ``/benefitpoint/_control/knobs``.
"""

import json
import os
import random
import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta

from ..http import Request, Response, knob_header, parse_knobs
from ..soap import SoapFault
from .data import BANDS, BILLING_TYPES, CANCELLATION_REASONS, CARRIERS, ORIGINATION, PRODUCT_TYPES, STATUSES, TIERS, demo_brokerage, rate_types
from .wsdl import BROKER_OPERATIONS, SCHEMA

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS bp_knob (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS bp_session (session_id TEXT PRIMARY KEY, username TEXT NOT NULL, created_on TEXT NOT NULL,
                                       calls INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS bp_account (account_id INTEGER PRIMARY KEY, account_name TEXT NOT NULL, data TEXT NOT NULL,
                                       service_info_complete INTEGER NOT NULL DEFAULT 1, last_modified_on TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS bp_contact (contact_id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL, data TEXT NOT NULL,
                                       last_modified_on TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS bp_product (product_id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL, data TEXT NOT NULL,
                                       last_modified_on TEXT NOT NULL, created_on TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS bp_product_account ON bp_product (account_id, last_modified_on);
CREATE INDEX IF NOT EXISTS bp_product_modified ON bp_product (last_modified_on);
CREATE TABLE IF NOT EXISTS bp_rate (rate_id INTEGER PRIMARY KEY, product_id INTEGER NOT NULL, data TEXT NOT NULL,
                                    last_modified_on TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS bp_rate_product ON bp_rate (product_id);
CREATE INDEX IF NOT EXISTS bp_rate_modified ON bp_rate (last_modified_on);
CREATE TABLE IF NOT EXISTS bp_deletion (entity_id INTEGER NOT NULL, entity_type TEXT NOT NULL, deleted_on TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS bp_sequence (name TEXT PRIMARY KEY, last INTEGER NOT NULL);
"""
# A reset starts a new brokerage: its sequences too, so the demo records get their usual ids.
TABLES = ("bp_knob", "bp_session", "bp_account", "bp_contact", "bp_product", "bp_rate", "bp_deletion", "bp_sequence")
FIRST_IDS = {"bp_account": 40001, "bp_contact": 300001, "bp_product": 500001, "bp_rate": 700001}

# The benefits-admin system's own knobs (also per request: ``X-Sandbox-Lost-Create-Rate: 1``).
KNOBS = {
    "latency_ms": (0, int),  # added to every SOAP call
    "error_rate": (0.0, float),  # share of calls answered 500 (writes: half after the write)
    "session_expire_after_calls": (0, int),  # a session dies after this many calls (0: never)
    "access_error_rate": (0.0, float),  # share of writes answered Result Access_Error
    "validation_error_rate": (0.0, float),  # share of writes answered Result Validation_Error
    "duplicate_error_rate": (0.0, float),  # share of creates answered Result Duplicate_Error
    "lost_create_rate": (0.0, float),  # share of creates done whose response is a 500
}
WRITES = {op for op in BROKER_OPERATIONS if op.startswith(("create", "update", "delete"))}
CREATES = {op for op in WRITES if op.startswith("create")}
SERVICE_INFO = "required Service Info fields missing (Region, Office, Administrator, Primary Contact)"
SESSION_FAULT = "Invalid session: the session ID is unknown or has expired; log in again."


class _Refused(Exception):
    """A business refusal, answered as ``Result{success: false, errors}``."""

    def __init__(self, code: str, *messages: str):
        super().__init__(messages[0])
        self.errors = [{"errorCode": code, "message": m} for m in messages]


class Clock:
    """The server's clock: UTC, microseconds, strictly increasing (a watermark never skips a write)."""

    def __init__(self):
        self.lock, self.last = threading.Lock(), ""

    def now(self) -> str:
        with self.lock:
            stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            if stamp <= self.last:
                moment = datetime.strptime(self.last, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
                stamp = datetime.fromtimestamp(moment.timestamp() + 1e-6, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            self.last = stamp
            return stamp


def seeded_time() -> str:
    """When the demo data was last modified: a day ago (so a new link's first findChanges doesn't see it all)."""
    return (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_time(value) -> str:
    """A client's dateTime in the server's stored form, so text comparison is time comparison."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class BenefitPoint:
    def __init__(self, store):
        self.store = store
        self.clock = Clock()
        self.users = dict(
            pair.split(":", 1) for pair in os.environ.get("BENEFITPOINT_USERS", "agencydesk:sandbox-password").split(",") if ":" in pair
        )
        self.calls_lock = threading.Lock()
        self.calls: dict[str, int] = {}

    # --- wiring ---------------------------------------------------------------------------------
    def routes(self, router) -> None:
        for service in SCHEMA.services:
            router.add("GET", service.path, self.wsdl, api=False)
            router.add("POST", service.path, self.soap, api=False)
        router.add("GET", "/benefitpoint/wsdl/BrokerConnectV4.wsdl", self.wsdl, api=False)

    def wsdl(self, request: Request) -> Response:
        host = request.header("Host") or request.environ.get("SERVER_NAME", "127.0.0.1")
        body = SCHEMA.wsdl(f"http://{host}")
        return Response(200, body, [("Content-Type", "text/xml; charset=utf-8")])

    def knobs(self, request: Request | None = None) -> dict:
        values = {name: default for name, (default, _) in KNOBS.items()}
        values.update({r["name"]: json.loads(r["value"]) for r in self.store.all("SELECT name, value FROM bp_knob")})
        if request is not None:
            headers = {n: request.environ[knob_header(n)] for n in KNOBS if knob_header(n) in request.environ}
            try:
                values.update({k: v for k, v in parse_knobs(headers, KNOBS).items() if v is not None})
            except ValueError as exc:
                raise SoapFault(str(exc), "Client") from None
        return values

    def set_knobs(self, values: dict) -> None:
        values = parse_knobs(values, KNOBS)
        with self.store.tx() as db:
            for name, value in values.items():
                db.execute("DELETE FROM bp_knob WHERE name = ?", [name])
                if value is not None:
                    db.execute("INSERT INTO bp_knob (name, value) VALUES (?, ?)", [name, json.dumps(value)])

    def soap(self, request: Request) -> Response:
        try:
            knobs = self.knobs(request)
            if knobs["latency_ms"]:
                time.sleep(knobs["latency_ms"] / 1000)
            operation, args, header = SCHEMA.parse(request.body)
            with self.calls_lock:
                self.calls[operation] = self.calls.get(operation, 0) + 1
            handler = getattr(self, f"op_{operation}")
            if operation not in BROKER_OPERATIONS:
                return self._ok(operation, handler(args))
            self._session(header.get("sessionId"), knobs)
            after_write = False
            if random.random() < knobs["error_rate"]:
                after_write = operation in WRITES and random.random() < 0.5
                if not after_write:
                    raise SoapFault("Internal error (sandbox fault injection).")
            if operation in WRITES:
                try:
                    self._refuse_by_knob(operation, knobs)
                    values = handler(args)
                except _Refused as exc:
                    values = {"result": {"success": False, "errors": exc.errors}}
                if values["result"]["success"] and operation in CREATES and random.random() < knobs["lost_create_rate"]:
                    after_write = True
            else:
                values = handler(args)
            if after_write:
                raise SoapFault("Internal error after the write (sandbox fault injection).")
            return self._ok(operation, values)
        except SoapFault as exc:
            return Response(500, SCHEMA.fault(exc), [("Content-Type", "text/xml; charset=utf-8")])

    @staticmethod
    def _ok(operation: str, values: dict) -> Response:
        return Response(200, SCHEMA.response(operation, values), [("Content-Type", "text/xml; charset=utf-8")])

    @staticmethod
    def _refuse_by_knob(operation: str, knobs: dict) -> None:
        if random.random() < knobs["access_error_rate"]:
            raise _Refused("Access_Error", "The user has no access to this account (sandbox fault injection).")
        if random.random() < knobs["validation_error_rate"]:
            raise _Refused("Validation_Error", "The record was refused (sandbox validation knob).")
        if operation in CREATES and random.random() < knobs["duplicate_error_rate"]:
            raise _Refused("Duplicate_Error", "A record like this one exists already (sandbox fault injection).")

    def _session(self, session_id: str | None, knobs: dict) -> None:
        with self.store.tx() as db:
            row = db.execute("SELECT calls FROM bp_session WHERE session_id = ?", [session_id or ""]).fetchone()
            limit = knobs["session_expire_after_calls"]
            if row is None or (limit and row["calls"] >= limit):
                db.execute("DELETE FROM bp_session WHERE session_id = ?", [session_id or ""])
                expired = SoapFault(SESSION_FAULT, "Client")
            else:
                db.execute("UPDATE bp_session SET calls = calls + 1 WHERE session_id = ?", [session_id])
                return
        raise expired

    # --- data helpers ---------------------------------------------------------------------------
    def _get(self, table: str, key: str, entity_id, what: str) -> dict:
        row = self.store.one(f"SELECT * FROM {table} WHERE {key} = ?", [entity_id])  # noqa: S608 - fixed names
        if row is None:
            raise SoapFault(f"Application_Error: no {what} with ID {entity_id}.", "Client")
        return row

    def _insert(self, db, table: str, key: str, columns: dict) -> int:
        """A new row with the next id of the table's own sequence: like the real system's, an id is never
        given twice, not even after its record was deleted (a stale reference must not find a new record)."""
        # A database from before the sequences starts its sequence after the highest id it holds.
        db.execute(
            f"INSERT INTO bp_sequence (name, last) SELECT ?, coalesce(max({key}), ?) FROM {table} WHERE true "  # noqa: S608
            "ON CONFLICT (name) DO NOTHING",
            [table, FIRST_IDS[table] - 1],
        )
        next_id = db.execute("UPDATE bp_sequence SET last = last + 1 WHERE name = ? RETURNING last", [table]).fetchone()["last"]
        names = [key, *columns]
        db.execute(
            f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",  # noqa: S608
            [next_id, *columns.values()],
        )
        return next_id

    @staticmethod
    def _merge(old: dict, new: dict) -> dict:
        out = dict(old)
        for key, value in new.items():
            if value is None or value == []:
                continue
            out[key] = BenefitPoint._merge(old.get(key) or {}, value) if isinstance(value, dict) else value
        return out

    # --- login service --------------------------------------------------------------------------
    def op_login(self, args):
        if self.users.get(args.get("username")) != args.get("password") or not args.get("password"):
            raise SoapFault("Login failed: unknown username or wrong password.", "Client")
        session_id = uuid.uuid4().hex
        with self.store.tx() as db:
            db.execute("INSERT INTO bp_session (session_id, username, created_on) VALUES (?, ?, ?)", [session_id, args["username"], self.clock.now()])
        return {"sessionID": session_id}

    def op_echo(self, args):
        if not self.store.one("SELECT 1 AS x FROM bp_session WHERE session_id = ?", [args.get("sessionID", "")]):
            raise SoapFault(SESSION_FAULT, "Client")
        return {"sessionID": args["sessionID"]}

    def op_logout(self, args):
        with self.store.tx() as db:
            db.execute("DELETE FROM bp_session WHERE session_id = ?", [args.get("sessionID", "")])
        return {}

    # --- accounts -------------------------------------------------------------------------------
    def _account(self, row: dict) -> dict:
        return {**json.loads(row["data"]), "accountID": row["account_id"], "lastModifiedOn": row["last_modified_on"]}

    def op_findAccounts(self, args):
        criteria = args.get("criteria") or {}
        rows = self.store.all(
            "SELECT * FROM bp_account WHERE lower(account_name) LIKE ? ORDER BY account_name, account_id",
            [f"%{(criteria.get('accountNameMatch') or '').lower()}%"],
        )
        out = []
        for row in rows:
            account = self._account(row)
            if criteria.get("active") is not None and account["active"] != criteria["active"]:
                continue
            if criteria.get("accountClassifications") and account["accountClassification"] not in criteria["accountClassifications"]:
                continue
            if criteria.get("accountTypes") and account["accountType"] not in criteria["accountTypes"]:
                continue
            out.append(
                {
                    "accountID": row["account_id"],
                    "accountName": row["account_name"],
                    "accountClassification": account["accountClassification"],
                    "accountType": account["accountType"],
                    "active": account["active"],
                    "lastModifiedOn": row["last_modified_on"],
                    "officeName": account.get("_officeName", ""),
                }
            )
        return {"accountSummaries": out}

    def op_getAccount(self, args):
        row = self._get("bp_account", "account_id", args["accountID"], "account")
        if not row["service_info_complete"]:
            raise SoapFault(f"Validation_Error: no information is returned: the account's {SERVICE_INFO}.", "Client")
        account = self._account(row)
        account.pop("_officeName", None)
        return {"account": account}

    def op_updateAccount(self, args):
        account = args["account"]
        row = self._get("bp_account", "account_id", account.get("accountID"), "account")
        merged = self._merge(json.loads(row["data"]), {k: v for k, v in account.items() if k not in ("accountID", "lastModifiedOn")})
        name = (merged.get("groupAccountInfo") or {}).get("accountName")
        if not name:
            raise _Refused("Validation_Error", "groupAccountInfo.accountName is required.")
        with self.store.tx() as db:
            db.execute(
                "UPDATE bp_account SET data = ?, account_name = ?, last_modified_on = ? WHERE account_id = ?",
                [json.dumps(merged), name, self.clock.now(), row["account_id"]],
            )
        return {"result": {"success": True, "ID": row["account_id"]}}

    def create_account(self, account: dict, *, service_info_complete: bool = True, stamp: str | None = None) -> int:
        """Control surface and seeding: a new account, stamped now (so ``findChanges`` sees it)."""
        data = {k: v for k, v in account.items() if k not in ("accountID", "lastModifiedOn")}
        data.setdefault("active", True)
        data.setdefault("accountClassification", "Group")
        data.setdefault("accountType", "Client")
        data["_officeName"] = data.get("_officeName") or "Austin"
        with self.store.tx() as db:
            return self._insert(
                db,
                "bp_account",
                "account_id",
                {
                    "account_name": data["groupAccountInfo"]["accountName"],
                    "data": json.dumps(data),
                    "service_info_complete": int(service_info_complete),
                    "last_modified_on": stamp or self.clock.now(),
                },
            )

    # --- contacts -------------------------------------------------------------------------------
    def _contact(self, row: dict) -> dict:
        data = json.loads(row["data"])
        return {
            **data,
            "contact": {**data["contact"], "contactID": row["contact_id"]},
            "accountID": row["account_id"],
            "lastModifiedOn": row["last_modified_on"],
        }

    def op_findAccountContacts(self, args):
        self._get("bp_account", "account_id", args["accountID"], "account")
        rows = self.store.all("SELECT * FROM bp_contact WHERE account_id = ? ORDER BY contact_id", [args["accountID"]])
        return {"accountContacts": [self._contact(r) for r in rows]}

    def op_getAccountContact(self, args):
        return {"accountContact": self._contact(self._get("bp_contact", "contact_id", args["contactID"], "contact"))}

    def _contact_data(self, contact: dict) -> dict:
        person = contact.get("contact") or {}
        missing = [f"contact.{f} is required." for f in ("firstName", "lastName") if not person.get(f)]
        if missing:
            raise _Refused("Validation_Error", *missing)
        return {k: v for k, v in contact.items() if k not in ("accountID", "lastModifiedOn")}

    def op_createAccountContact(self, args):
        contact = args["accountContact"]
        self._get("bp_account", "account_id", contact.get("accountID"), "account")
        data = self._contact_data(contact)
        with self.store.tx() as db:
            new_id = self._insert(
                db, "bp_contact", "contact_id", {"account_id": contact["accountID"], "data": json.dumps(data), "last_modified_on": self.clock.now()}
            )
        return {"result": {"success": True, "ID": new_id}}

    def op_updateAccountContact(self, args):
        contact = args["accountContact"]
        row = self._get("bp_contact", "contact_id", (contact.get("contact") or {}).get("contactID"), "contact")
        merged = self._contact_data(self._merge(json.loads(row["data"]), contact))  # a partial edit keeps the rest
        with self.store.tx() as db:
            db.execute(
                "UPDATE bp_contact SET data = ?, last_modified_on = ? WHERE contact_id = ?", [json.dumps(merged), self.clock.now(), row["contact_id"]]
            )
        return {"result": {"success": True, "ID": row["contact_id"]}}

    def op_deleteAccountContacts(self, args):
        now = self.clock.now()
        with self.store.tx() as db:
            for contact_id in args.get("contactIDs") or []:
                if db.execute("DELETE FROM bp_contact WHERE contact_id = ?", [contact_id]).rowcount:
                    db.execute("INSERT INTO bp_deletion VALUES (?, 'Account_Contact', ?)", [contact_id, now])
        return {"result": {"success": True}}

    # --- products -------------------------------------------------------------------------------
    def product(self, row: dict) -> dict:
        return {
            **json.loads(row["data"]),
            "productID": row["product_id"],
            "accountID": row["account_id"],
            "lastModifiedOn": row["last_modified_on"],
            "createdOn": row["created_on"],
        }

    def op_findProducts(self, args):
        criteria = args["criteria"]
        self._get("bp_account", "account_id", criteria.get("accountID"), "account")
        sql, params = "SELECT * FROM bp_product WHERE account_id = ?", [criteria["accountID"]]
        if criteria.get("sinceLastModifiedOn"):
            sql, params = sql + " AND last_modified_on >= ?", [*params, canonical_time(criteria["sinceLastModifiedOn"])]
        out = []
        for row in self.store.all(sql + " ORDER BY product_id", params):
            product = self.product(row)
            on = criteria.get("effectiveOn")
            if on and not (product["effectiveAsOf"] <= on < product["renewalOn"]):
                continue
            out.append(
                {
                    k: product.get(k)
                    for k in (
                        "productID",
                        "accountID",
                        "productTypeID",
                        "productStatus",
                        "name",
                        "carrierID",
                        "effectiveAsOf",
                        "renewalOn",
                        "parentProductID",
                        "lastModifiedOn",
                    )
                }
            )
        return {"productSummaries": out}

    def op_getProduct(self, args):
        return {"product": self.product(self._get("bp_product", "product_id", args["productID"], "product"))}

    def validate_product(self, db, product: dict) -> None:
        problems = []
        account = db.execute("SELECT service_info_complete FROM bp_account WHERE account_id = ?", [product.get("accountID")]).fetchone()
        if account is None:
            raise _Refused("Validation_Error", f"accountID: no account {product.get('accountID')}.")
        if not account["service_info_complete"]:
            raise _Refused("Validation_Error", f"The account's {SERVICE_INFO}.")
        if not product.get("name"):
            problems.append("name is required.")
        if product.get("productTypeID") not in PRODUCT_TYPES:
            problems.append(f"productTypeID {product.get('productTypeID')} is not a product type.")
        if product.get("carrierID") not in CARRIERS:
            problems.append(f"carrierID {product.get('carrierID')} is not an available carrier.")
        for field, allowed in (
            ("productStatus", STATUSES),
            ("billingType", BILLING_TYPES),
            ("policyOriginationReason", ORIGINATION),
            ("cancellationReason", CANCELLATION_REASONS),
        ):
            if product.get(field) is not None and product[field] not in allowed:
                problems.append(f"{field} {product[field]!r} is not one of {', '.join(allowed)}.")
        if not product.get("productStatus"):
            problems.append("productStatus is required.")
        dates = {}
        for field in ("effectiveAsOf", "renewalOn", "cancellationOn"):
            if product.get(field):
                try:
                    dates[field] = date.fromisoformat(str(product[field]))
                except ValueError:
                    problems.append(f"{field} {product[field]!r} is not a date.")
            elif field != "cancellationOn":
                problems.append(f"{field} is required.")
        if "effectiveAsOf" in dates and "renewalOn" in dates and dates["renewalOn"] <= dates["effectiveAsOf"]:
            problems.append("renewalOn must be after effectiveAsOf.")
        parent = product.get("parentProductID")
        if parent and not db.execute("SELECT 1 FROM bp_product WHERE product_id = ? AND account_id = ?", [parent, product["accountID"]]).fetchone():
            problems.append(f"parentProductID {parent} is not a product of this account.")
        if problems:
            raise _Refused("Validation_Error", *problems)

    @staticmethod
    def _product_data(product: dict) -> dict:
        return {k: v for k, v in product.items() if k not in ("productID", "accountID", "lastModifiedOn", "createdOn")}

    def op_createProduct(self, args):
        product = args["product"]
        now = self.clock.now()
        with self.store.tx() as db:
            self.validate_product(db, product)
            new_id = self._insert(
                db,
                "bp_product",
                "product_id",
                {"account_id": product["accountID"], "data": json.dumps(self._product_data(product)), "last_modified_on": now, "created_on": now},
            )
        return {"result": {"success": True, "ID": new_id}}

    def op_updateProduct(self, args):
        update = args["product"]
        with self.store.tx() as db:
            row = db.execute("SELECT * FROM bp_product WHERE product_id = ?", [update.get("productID")]).fetchone()
            if row is None:
                raise _Refused("Validation_Error", f"productID: no product {update.get('productID')}.")
            merged = self._merge(self.product(dict(row)), self._product_data(update))
            self.validate_product(db, merged)
            db.execute(
                "UPDATE bp_product SET data = ?, last_modified_on = ? WHERE product_id = ?",
                [json.dumps(self._product_data(merged)), self.clock.now(), row["product_id"]],
            )
        return {"result": {"success": True, "ID": row["product_id"]}}

    def change_account(self, account_id: int, changes: dict) -> dict:
        """Control surface: a person's edit of an account on the far side (validated like ``updateAccount``)."""
        return self.op_updateAccount({"account": {**changes, "accountID": account_id}})["result"]

    def change_contact(self, contact_id: int, changes: dict) -> dict:
        """Control surface: a person's edit of a contact on the far side (validated like ``updateAccountContact``)."""
        person = {**(changes.get("contact") or {}), "contactID": contact_id}
        return self.op_updateAccountContact({"accountContact": {**changes, "contact": person}})["result"]

    def change_product(self, product_id: int, changes: dict) -> dict:
        """Control surface: a person's edit on the far side (validated like ``updateProduct``)."""
        values = self.op_updateProduct({"product": {**changes, "productID": product_id}})
        return values["result"]

    def delete_product(self, product_id: int) -> bool:
        with self.store.tx() as db:
            if not db.execute("DELETE FROM bp_product WHERE product_id = ?", [product_id]).rowcount:
                return False
            now = self.clock.now()
            db.execute("INSERT INTO bp_deletion VALUES (?, 'Product', ?)", [product_id, now])
            for rate in db.execute("SELECT rate_id FROM bp_rate WHERE product_id = ?", [product_id]).fetchall():
                db.execute("INSERT INTO bp_deletion VALUES (?, 'Rate', ?)", [rate["rate_id"], now])
            db.execute("DELETE FROM bp_rate WHERE product_id = ?", [product_id])
        return True

    # --- reference data -------------------------------------------------------------------------
    def op_getProductTypes(self, args):
        return {
            "productTypes": [
                {"productTypeID": i, "shortDescription": s, "longDescription": long_, "lineOfCoverage": line, "rateTypes": rate_types(i)}
                for i, (s, long_, line) in PRODUCT_TYPES.items()
            ]
        }

    def op_getAvailableCarriers(self, args):
        return {"carriers": [{"carrierID": i, "carrierName": n, "carrierAlias": a} for i, (n, a) in CARRIERS.items()]}

    # --- rates ----------------------------------------------------------------------------------
    def _rate(self, row: dict) -> dict:
        return {**json.loads(row["data"]), "rateID": row["rate_id"], "productID": row["product_id"], "lastModifiedOn": row["last_modified_on"]}

    def op_findRates(self, args):
        self._get("bp_product", "product_id", args["productID"], "product")
        rows = self.store.all("SELECT * FROM bp_rate WHERE product_id = ? ORDER BY rate_id", [args["productID"]])
        return {
            "rateSummaries": [
                {k: r.get(k) for k in ("rateID", "description", "effectiveAsOf", "expirationOn", "annualizedPremium")} for r in map(self._rate, rows)
            ]
        }

    def op_getRate(self, args):
        return {"rate": self._rate(self._get("bp_rate", "rate_id", args["rateID"], "rate"))}

    @staticmethod
    def _rate_data(rate: dict) -> dict:
        tiers = rate.get("rateTiers") or []
        problems = [
            f"rateTiers: {t.get('description')!r} is not a tier ({', '.join(TIERS + BANDS)})."
            for t in tiers
            if t.get("description") not in TIERS + BANDS
        ]
        if not tiers:
            problems.append("rateTiers: at least one tier is required.")
        if problems:
            raise _Refused("Validation_Error", *problems)
        total = sum(float(t.get("monthlyPremium") or 0) for t in tiers)
        return {**{k: v for k, v in rate.items() if k not in ("rateID", "productID", "lastModifiedOn")}, "annualizedPremium": f"{total * 12:.2f}"}

    def op_createRate(self, args):
        rate = args["rate"]
        with self.store.tx() as db:
            if not db.execute("SELECT 1 FROM bp_product WHERE product_id = ?", [rate.get("productID")]).fetchone():
                raise _Refused("Validation_Error", f"productID: no product {rate.get('productID')}.")
            new_id = self._insert(
                db,
                "bp_rate",
                "rate_id",
                {"product_id": rate["productID"], "data": json.dumps(self._rate_data(rate)), "last_modified_on": self.clock.now()},
            )
        return {"result": {"success": True, "ID": new_id}}

    def op_updateRate(self, args):
        rate = args["rate"]
        with self.store.tx() as db:
            row = db.execute("SELECT * FROM bp_rate WHERE rate_id = ?", [rate.get("rateID")]).fetchone()
            if row is None:
                raise _Refused("Validation_Error", f"rateID: no rate {rate.get('rateID')}.")
            old = json.loads(row["data"])
            data = self._rate_data({**old, **{k: v for k, v in rate.items() if v not in (None, [])}})
            db.execute("UPDATE bp_rate SET data = ?, last_modified_on = ? WHERE rate_id = ?", [json.dumps(data), self.clock.now(), row["rate_id"]])
        return {"result": {"success": True, "ID": row["rate_id"]}}

    # --- changes --------------------------------------------------------------------------------
    def op_findChanges(self, args):
        started = self.clock.now()
        criteria = args["criteria"]
        since = canonical_time(criteria["sinceLastModifiedOn"])
        wanted = set(criteria.get("typesToInclude") or ["Account", "Account_Contact", "Product", "Rate"])
        modifications = []
        for entity, table, key in (
            ("Account", "bp_account", "account_id"),
            ("Account_Contact", "bp_contact", "contact_id"),
            ("Product", "bp_product", "product_id"),
            ("Rate", "bp_rate", "rate_id"),
        ):
            if entity in wanted:
                modifications += [
                    {"entityID": r[key], "entityType": entity, "lastModifiedOn": r["last_modified_on"]}
                    for r in self.store.all(
                        f"SELECT {key}, last_modified_on FROM {table} "  # noqa: S608
                        "WHERE last_modified_on >= ? AND last_modified_on <= ?",
                        [since, started],
                    )
                ]
        deletions = [
            {"entityID": r["entity_id"], "entityType": r["entity_type"], "deletedOn": r["deleted_on"]}
            for r in self.store.all("SELECT * FROM bp_deletion WHERE deleted_on >= ? AND deleted_on <= ?", [since, started])
            if r["entity_type"] in wanted
        ]
        return {"changeSummary": {"processStartedOn": started, "modifications": modifications, "deletions": deletions}}

    # --- seeding --------------------------------------------------------------------------------
    def _insert_products(self, db, account_id: int, products: list[dict], now: str) -> list[int]:
        ids: list[int] = []
        for product in products:
            data = {k: v for k, v in product.items() if not k.startswith("_")}
            data["benefitSummary"] = [{"attribute": k, "value": json.dumps(v)} for k, v in product["_benefits"].items()]
            product_id = self._insert(
                db, "bp_product", "product_id", {"account_id": account_id, "data": json.dumps(data), "last_modified_on": now, "created_on": now}
            )
            ids.append(product_id)
            rate = self._rate_data(
                {
                    "rateTypeID": data["productTypeID"] * 10 + 1,
                    "description": "Monthly premium",
                    "effectiveAsOf": data["effectiveAsOf"],
                    "expirationOn": data["renewalOn"],
                    "rateTiers": product["_rates"],
                }
            )
            self._insert(db, "bp_rate", "rate_id", {"product_id": product_id, "data": json.dumps(rate), "last_modified_on": now})
        return ids

    def bench_seed(self, accounts: int, plans: int) -> list[int]:
        """Control surface for the benchmark: ``accounts`` more accounts with ``plans`` mappable plans each."""
        from .data import bench_accounts

        start = self.store.one("SELECT count(*) AS n FROM bp_account")["n"]
        ids = []
        for account in bench_accounts(accounts, plans, start):
            account_id = self.create_account(
                {
                    "groupAccountInfo": {"accountName": account["name"], "businessType": "Corporation"},
                    "mainAddress": {"street1": "1 Bench Way", "city": "Austin", "state": "TX", "zip": "73301"},
                },
                stamp=seeded_time(),
            )
            with self.store.tx() as db:
                self._insert_products(db, account_id, account["products"], seeded_time())
            ids.append(account_id)
        return ids

    def reset(self) -> None:
        with self.store.tx() as db:
            for table in TABLES:
                db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
        with self.calls_lock:
            self.calls.clear()
        self.seed()

    def seed(self) -> None:
        """The demo brokerage, when the database has no account (a restart keeps what is there)."""
        if self.store.one("SELECT 1 AS x FROM bp_account LIMIT 1"):
            return
        demo = demo_brokerage()
        for account in demo["accounts"]:
            complete = account.pop("_service_info_complete")
            account["_officeName"] = account["mainAddress"]["city"]
            self.create_account(account, service_info_complete=complete, stamp=seeded_time())
        now = seeded_time()
        ids: list[int] = []
        with self.store.tx() as db:
            for contact in demo["contacts"]:
                self._insert(
                    db, "bp_contact", "contact_id", {"account_id": contact["accountID"], "data": json.dumps(contact), "last_modified_on": now}
                )
            for product in demo["products"]:
                data = {k: v for k, v in product.items() if not k.startswith("_") and k != "accountID"}
                if "_parent" in product:
                    data["parentProductID"] = ids[product["_parent"]]
                data["benefitSummary"] = [{"attribute": k, "value": json.dumps(v)} for k, v in product["_benefits"].items()]
                product_id = self._insert(
                    db,
                    "bp_product",
                    "product_id",
                    {"account_id": product["accountID"], "data": json.dumps(data), "last_modified_on": now, "created_on": now},
                )
                ids.append(product_id)
                rate = self._rate_data(
                    {
                        "rateTypeID": data["productTypeID"] * 10 + 1,
                        "description": "Monthly premium",
                        "effectiveAsOf": data["effectiveAsOf"],
                        "expirationOn": data["renewalOn"],
                        "rateTiers": product["_rates"],
                    }
                )
                self._insert(db, "bp_rate", "rate_id", {"product_id": product_id, "data": json.dumps(rate), "last_modified_on": now})
