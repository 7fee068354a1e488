"""The agency management system: an AMS360 WSAPI v3 subset over SOAP 1.1, with its own SQLite file.

``/ams360/v3/WSAPIService.svc`` answers SOAP (``?wsdl`` serves the WSDL). ``Login`` returns a ticket
in the ``WSAPISession`` header that every later call carries. GUID ids plus integer customer
numbers; no modified timestamps and no "changed since" query, as the real one. Every write pushes a
change notification (record type + id, and the customer it belongs to) to AgencyDesk's webhook,
signed ``X-AMS-Signature: sha256=<HMAC-SHA256 of the body with the shared secret>`` (the body carries
``SentAt``, the UTC time of sending, so the signature covers it: AgencyDesk refuses old ones); knobs drop a
share of them, delay, duplicate and reorder them. A merged customer keeps its row: fetching its id
by ``CustomerGetById`` answers the survivor's record (its contacts and policies moved there); a
deleted customer is not found.

Control (no auth): ``/_sandbox/ams/`` (page: edit customers, contacts and policies, merge, delete),
``/_sandbox/ams/knobs``, ``reset``, ``flush``, ``stats``, ``notifications``, and JSON writes for
tests and benchmarks. XML is parsed with entities, DTDs and network access off.
"""

import hashlib
import hmac
import json
import os
import queue
import random
import secrets
import threading
import time
import urllib.request
import uuid
from datetime import date, timedelta
from pathlib import Path

from lxml import etree

from . import ams_demo
from .ams360_page import page, page_post
from .ams360_wsdl import CONTACT, CUSTOMER, NS, OPERATIONS, POLICY, TYPES, wsdl
from .http import HTTPError, Request, Response
from .store import Store

PATH = "/ams360/v3/WSAPIService.svc"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
AGENCY_NO, LOGIN_ID = "1000", "agencydesk"
PASSWORD = os.environ.get("AMS_SANDBOX_PASSWORD", "sandbox-ams-password")
DEFAULT_CUSTOMERS = int(os.environ.get("AMS_SANDBOX_CUSTOMERS", "3000"))
# Where notifications go: AMS_WEBHOOK_URL, else the back office that ``bin/run`` starts beside us.
WEBHOOK_URL = os.environ.get("AMS_WEBHOOK_URL") or (
    f"http://127.0.0.1:{os.environ['AGENCYDESK_PORT']}/api/ams/notifications/" if os.environ.get("AGENCYDESK_PORT") else ""
)
KNOBS = {
    "latency_ms": (0, int),
    "fault_rate": (0.0, float),
    "expired_ticket_rate": (0.0, float),
    "ticket_ttl_seconds": (1800, int),
    "drop_rate": (0.0, float),
    "duplicate_rate": (0.0, float),
    "reorder_rate": (0.0, float),
    "delay_ms": (0, int),
    "webhook_url": (WEBHOOK_URL, str),
    "webhook_secret": (os.environ.get("AMS_WEBHOOK_SECRET", "sandbox-ams-webhook-secret"), str),
}
COLUMNS = {"customer": [f for f, _ in CUSTOMER], "contact": [f for f, _ in CONTACT], "policy": [f for f, _ in POLICY]}
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS knob (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ticket (ticket TEXT PRIMARY KEY, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS customer (seq INTEGER PRIMARY KEY AUTOINCREMENT, {", ".join(COLUMNS["customer"])},
    name_key TEXT NOT NULL DEFAULT '', merged_into TEXT);
CREATE UNIQUE INDEX IF NOT EXISTS customer_id ON customer (CustomerId);
CREATE UNIQUE INDEX IF NOT EXISTS customer_number ON customer (CustomerNumber);
CREATE INDEX IF NOT EXISTS customer_name ON customer (name_key);
CREATE TABLE IF NOT EXISTS contact (seq INTEGER PRIMARY KEY AUTOINCREMENT, {", ".join(COLUMNS["contact"])});
CREATE UNIQUE INDEX IF NOT EXISTS contact_id ON contact (CustomerContactId);
CREATE INDEX IF NOT EXISTS contact_customer ON contact (CustomerId);
CREATE TABLE IF NOT EXISTS policy (seq INTEGER PRIMARY KEY AUTOINCREMENT, {", ".join(COLUMNS["policy"])});
CREATE UNIQUE INDEX IF NOT EXISTS policy_id ON policy (PolicyId);
CREATE INDEX IF NOT EXISTS policy_customer ON policy (CustomerId);
CREATE INDEX IF NOT EXISTS policy_number ON policy (PolicyNumber);
"""
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True)

FIRST = [
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "Luis",
    "Mei",
    "Sarah",
    "Thomas",
    "Karen",
    "Daniel",
    "Nancy",
    "Ahmed",
    "Olga",
    "Kenji",
]
LAST = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Lopez",
    "Wilson",
    "Anderson",
    "Taylor",
    "Moore",
    "Jackson",
    "Lee",
    "Nguyen",
    "O'Brien",
    "Zimmerman",
]
FIRMS = [
    "Harbor",
    "Summit",
    "Pioneer",
    "Cedar",
    "Lakeside",
    "Granite",
    "Redwood",
    "Maple",
    "Northstar",
    "Keystone",
    "4th Street",
    "Apex",
    "Bright",
    "Quarry",
    "Vista",
    "Willow",
    "Xenon",
    "Yellowstone",
]
KINDS = ["Dental Group", "Roofing", "Logistics", "Family Medicine", "Auto Repair", "Architects", "Bakery Co", "Realty"]
CITIES = [
    ("Austin", "TX", "787"),
    ("Tampa", "FL", "336"),
    ("Phoenix", "AZ", "850"),
    ("Columbus", "OH", "432"),
    ("Denver", "CO", "802"),
    ("Atlanta", "GA", "303"),
]
# PolicyType -> writing companies; AgencyDesk maps both (ams/mapping.py).
PERSONAL_TYPES = {
    "MEDADV": ["humana", "aetna", "uhc"],
    "MEDSUP": ["mutual-of-omaha", "cigna"],
    "PDP": ["humana", "cigna"],
    "DENTAL": ["delta-dental"],
    "LIFE": ["mutual-of-omaha"],
    "HEALTH": ["bcbs", "aetna"],
}
COMMERCIAL_TYPES = ["GL", "WC", "BOP", "CAUTO"]
STATUSES = ["Active"] * 6 + ["Pending", "Cancelled", "Expired"]


def new_id() -> str:
    return str(uuid.uuid4())


def _coerce(fields, data: dict) -> dict:
    """Form and SOAP values as stored: booleans 0/1, integers as integers, blanks as NULL."""
    types = dict(fields)
    out = {}
    for name, value in data.items():
        t = types.get(name)
        if t == "boolean":
            value = int(str(value).strip().lower() in ("1", "true", "yes", "on"))
        elif t == "int" and value not in (None, ""):
            try:
                value = int(value)
            except ValueError:
                raise Fault("WSAPIGeneralFault", f"{name} must be an integer.") from None
        elif value == "":
            value = None
        out[name] = value
    return out


def _name_key(row: dict) -> str:
    name = row.get("FirmName") if row.get("IsCommercial") else row.get("LastName")
    return (name or row.get("FirmName") or row.get("LastName") or "").upper()


class Knobs:
    @staticmethod
    def parse(values: dict) -> dict:
        out = {}
        for name, raw in values.items():
            if name not in KNOBS:
                raise ValueError(f"unknown knob {name!r}; knobs are {', '.join(KNOBS)}")
            try:
                out[name] = None if raw in ("", None) and KNOBS[name][1] is not str else KNOBS[name][1](raw)
            except (TypeError, ValueError):
                raise ValueError(f"knob {name!r} must be a {KNOBS[name][1].__name__}") from None
        return out


class Fault(Exception):
    def __init__(self, kind: str, message: str, status: int = 500):
        super().__init__(message)
        self.kind, self.message, self.status = kind, message, status


class Ams360:
    """One agency's AMS: the SOAP service, its notifications, and its control surface."""

    def __init__(self, db_path: str | Path):
        store = Store(db_path, SCHEMA)  # its own SQLite file, one connection and one lock
        self.lock, self.conn = store.lock, store.conn
        self.outbox: queue.Queue = queue.Queue()
        self.pending = 0  # notified but not yet delivered or dropped (a held, reordered one included)
        self.log: list[dict] = []  # every notification and what became of it (sent, dropped, ...)
        self.calls = 0
        threading.Thread(target=self._deliver_forever, daemon=True, name="ams-notifications").start()

    # --- storage ----------------------------------------------------------------------------------
    def all(self, sql: str, params=()) -> list[dict]:
        with self.lock:
            return [dict(r) for r in self.conn.execute(sql, params).fetchall()]

    def one(self, sql: str, params=()) -> dict | None:
        rows = self.all(sql, params)
        return rows[0] if rows else None

    def tx(self, work):
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                result = work(self.conn)
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")
            return result

    def knobs(self) -> dict:
        values = {name: default for name, (default, _) in KNOBS.items()}
        values.update({r["name"]: json.loads(r["value"]) for r in self.all("SELECT name, value FROM knob")})
        return values

    def set_knobs(self, values: dict) -> dict:
        values = Knobs.parse(values)

        def write(db):
            for name, value in values.items():
                if value is None:
                    db.execute("DELETE FROM knob WHERE name = ?", [name])
                else:
                    db.execute("INSERT INTO knob VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value", [name, json.dumps(value)])

        self.tx(write)
        return self.knobs()

    # --- seeding ----------------------------------------------------------------------------------
    def reset(self, customers: int | None = None) -> None:
        """Empty, default knobs, then the seeded book of business (``customers`` of them)."""
        self.flush(timeout=5)

        def wipe(db):
            for table in ("knob", "ticket", "customer", "contact", "policy"):
                db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
            db.execute("DELETE FROM sqlite_sequence")

        self.tx(wipe)
        with self.lock:
            self.log.clear()
            self.pending = max(0, self.pending)
        self.calls = 0
        self.seed(DEFAULT_CUSTOMERS if customers is None else customers)

    def seed(self, count: int = DEFAULT_CUSTOMERS) -> None:
        """A few thousand customers, personal and commercial, with contacts and policies (deterministic)."""
        if self.one("SELECT 1 AS x FROM customer LIMIT 1"):
            return
        r = random.Random(13)
        customers, contacts, policies = [], [], []
        # The back office's demo records are customers here holding what they hold (``ams_demo``): the first
        # ten commercial customers are its demo groups, the first twenty personal ones its demo people. The
        # random draws are the same either way, so every other customer is the same whatever the demo holds.
        demo_groups, people = list(ams_demo.DEMO_GROUPS), 0
        for n in range(1, count + 1):
            commercial = n % 5 == 0
            city, state, zip3 = r.choice(CITIES)
            demo_group = demo_groups.pop(0) if commercial and demo_groups else None
            demo_person = people + 1 if not commercial and people < ams_demo.DEMO_PEOPLE else None
            if demo_group:
                customer_id = ams_demo.group_customer_id(demo_group)
            elif demo_person:
                customer_id = ams_demo.person_customer_id(demo_person)
            else:
                customer_id = str(uuid.UUID(int=r.getrandbits(128), version=4))
            row = {
                "CustomerId": customer_id,
                "CustomerNumber": n,
                "IsActive": 1,
                "CustomerType": "Customer",
                "City": city,
                "State": state,
                "ZipCode": f"{zip3}{r.randint(10, 99)}",
                "AddressLine1": f"{r.randint(10, 9999)} {r.choice(['Oak', 'Elm', 'Main', 'Lake'])} St",
                "AccountExecCode": r.choice(["AE1", "AE2"]),
                "AccountRepCode": r.choice(["AR1", "AR2", "AR3"]),
                "IsCommercial": int(commercial),
                "IsPersonal": int(not commercial),
                "IsBenefits": int(commercial),
                "IsHealth": int(not commercial),
                "IsLife": 0,
                "DateCustomerAdded": (date(2015, 1, 1) + timedelta(days=r.randint(0, 3600))).isoformat(),
            }
            if commercial:
                row.update(
                    FirmName=f"{r.choice(FIRMS)} {r.choice(KINDS)}",
                    FederalTaxIdNumber=f"{r.randint(10, 99)}-{r.randint(1000000, 9999999)}",
                    BusinessPhone=f"555-{r.randint(100, 999)}-{r.randint(1000, 9999)}",
                )
                for k in range(r.randint(1, 3)):
                    contacts.append(
                        {
                            "CustomerId": customer_id,
                            "CustomerContactId": str(uuid.UUID(int=r.getrandbits(128), version=4)),
                            "ContactName": f"{r.choice(FIRST)} {r.choice(LAST)}",
                            "Title": ["HR Manager", "CFO", "Owner"][k],
                            "EmailAddress": f"contact{n}.{k}@firm{n}.example",
                            "SortOrder": k + 1,
                        }
                    )
            else:
                first, last = r.choice(FIRST), r.choice(LAST)
                row.update(
                    FirstName=first,
                    LastName=last,
                    Email=f"{first}.{last}{n}@mail.example".lower(),
                    HomePhone=f"555-{r.randint(100, 999)}-{r.randint(1000, 9999)}",
                )
            if demo_group:
                row.update(ams_demo.group_fields(demo_group))
                contacts = [c for c in contacts if c["CustomerId"] != customer_id]
                contacts += [
                    {"CustomerId": customer_id, "CustomerContactId": str(uuid.uuid5(ams_demo.NAMESPACE, f"contact:{demo_group}:{k}")), **c}
                    for k, c in enumerate(ams_demo.group_contacts(demo_group), 1)
                ]
            elif demo_person:
                row.update(ams_demo.person_fields(demo_person))
            row["name_key"] = _name_key(row)
            people += not commercial
            customers.append(row)
            drawn = len(policies)
            for _ in range(r.randint(0, 2) if not commercial else r.randint(0, 1)):
                start = date(2025, r.randint(1, 12), 1)
                kind = r.choice(list(PERSONAL_TYPES)) if not commercial else r.choice(COMMERCIAL_TYPES)
                company = r.choice(PERSONAL_TYPES[kind]) if not commercial else "hartford"
                policies.append(
                    {
                        "CustomerId": customer_id,
                        "PolicyId": str(uuid.UUID(int=r.getrandbits(128), version=4)),
                        # Policy numbers repeat across customers (they are not unique in an AMS).
                        "PolicyNumber": f"{kind}-{r.randint(1000, 1400)}",
                        "TypeOfBusiness": "New",
                        "PolicyType": kind,
                        "WritingCompanyCode": company,
                        "PolicyEffectiveDate": start.isoformat(),
                        "PolicyExpirationDate": start.replace(year=start.year + 1).isoformat(),
                        "PolicyStatus": r.choice(STATUSES),
                        "BillMethod": r.choice(["Direct", "Agency"]),
                        "FullTermPremium": f"{r.randint(200, 4000)}.00",
                        "LineOfBusinessList": kind,
                    }
                )
            if demo_person:  # its own policies, not the drawn ones
                policies[drawn:] = [
                    {"CustomerId": customer_id, "TypeOfBusiness": "New", "BillMethod": "Direct", "LineOfBusinessList": p["PolicyType"], **p}
                    for p in ams_demo.person_policies(demo_person)
                ]

        def write(db):
            for table, rows in (("customer", customers), ("contact", contacts), ("policy", policies)):
                if rows:
                    cols = list(rows[0]) if table != "customer" else [*COLUMNS["customer"], "name_key"]
                    db.executemany(
                        f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",  # noqa: S608
                        [[row.get(c) for c in cols] for row in rows],
                    )

        self.tx(write)

    # --- SOAP ---------------------------------------------------------------------------------------
    def routes(self, router) -> None:
        router.add("GET", PATH, self.get_wsdl, api=False)
        router.add("POST", PATH, self.soap, api=False)
        for method, path, handler in [
            ("GET", "/_sandbox/ams/", page),
            ("POST", "/_sandbox/ams/", page_post),
            ("GET", "/_sandbox/ams/knobs", self.c_knobs),
            ("PUT", "/_sandbox/ams/knobs", self.c_put_knobs),
            ("POST", "/_sandbox/ams/reset", self.c_reset),
            ("POST", "/_sandbox/ams/flush", self.c_flush),
            ("GET", "/_sandbox/ams/stats", self.c_stats),
            ("GET", "/_sandbox/ams/notifications", self.c_notifications),
            ("POST", "/_sandbox/ams/customers", self.c_insert),
            ("POST", "/_sandbox/ams/customers/(?P<id>[0-9a-f-]+)", self.c_update),
            ("DELETE", "/_sandbox/ams/customers/(?P<id>[0-9a-f-]+)", self.c_delete),
            ("GET", "/_sandbox/ams/customers/(?P<id>[0-9a-f-]+)", self.c_get),
            ("POST", "/_sandbox/ams/merge", self.c_merge),
            ("POST", "/_sandbox/ams/burst", self.c_burst),
            ("POST", "/_sandbox/ams/policies", self.c_policy_insert),
            ("POST", "/_sandbox/ams/policies/(?P<id>[0-9a-f-]+)", self.c_policy_update),
            ("POST", "/_sandbox/ams/contacts/(?P<id>[0-9a-f-]+)", self.c_contact_update),
        ]:
            router.add(method, path, (lambda h: lambda request: h(self, request))(handler) if handler in (page, page_post) else handler, api=False)

    def get_wsdl(self, request: Request) -> Response:
        host = request.header("Host") or "127.0.0.1"
        return Response(200, wsdl(f"http://{host}{PATH}").encode(), [("Content-Type", "text/xml; charset=utf-8")])

    def soap(self, request: Request) -> Response:
        knobs = self.knobs()
        if knobs["latency_ms"]:
            time.sleep(knobs["latency_ms"] / 1000)
        try:
            op, header, body = self._parse(request.body)
            with self.lock:
                self.calls += 1
            if op != "Login":
                self._check_ticket(header, knobs)
            if knobs["fault_rate"] and random.random() < knobs["fault_rate"]:
                raise Fault("WSAPIGeneralFault", "The service is unavailable (sandbox fault injection).")
            if op == "Login":
                return self._envelope("LoginResponse", None, header=self._login(body))
            inputs, result = OPERATIONS[op]
            args = {name: self._value(body, name, t) for name, t, _ in inputs}
            missing = [name for name, _, required in inputs if required and args[name] in (None, "", {})]
            if missing:
                raise Fault("WSAPIGeneralFault", f"{op}: {', '.join(missing)} is required.", 500)
            value = getattr(self, f"op_{op}")(**args)
            return self._envelope(f"{op}Response", (f"{op}Result", result, value) if result else None)
        except Fault as exc:
            return self._fault(exc)

    def _parse(self, raw: bytes):
        try:
            root = etree.fromstring(raw, _PARSER)
        except etree.XMLSyntaxError:
            raise Fault("Client", "The request is not well-formed XML.", 400) from None
        if root.getroottree().docinfo.doctype:
            raise Fault("Client", "DTDs are not accepted.", 400)
        body = root.find(f"{{{SOAP_NS}}}Body")
        if body is None or len(body) == 0:
            raise Fault("Client", "No SOAP Body.", 400)
        call = body[0]
        op = etree.QName(call).localname
        if op != "Login" and op not in OPERATIONS:
            raise Fault("Client", f"Unknown operation {op}.", 400)
        header = root.find(f"{{{SOAP_NS}}}Header")
        return op, header, call

    @staticmethod
    def _child(el, name):
        return None if el is None else el.find(f"{{{NS}}}{name}")

    def _value(self, el, name: str, t: str):
        child = self._child(el, name)
        if child is None:
            return None
        if t in TYPES:
            out = {}
            for field, ft in TYPES[t]:
                sub = self._child(child, field)
                if sub is None:
                    continue
                if ft == "list":
                    out[field] = ",".join(x.text or "" for x in sub)
                elif ft == "boolean":
                    out[field] = int((sub.text or "").strip() in ("true", "1"))
                else:
                    out[field] = (sub.text or "").strip()
            return out
        text = (child.text or "").strip()
        if t == "int":
            try:
                return int(text)
            except ValueError:
                raise Fault("WSAPIGeneralFault", f"{name} must be an integer.") from None
        return text

    def _login(self, body) -> dict:
        agency, login, password = (self._value(body, n, "string") for n in ("AgencyNo", "LoginId", "Password"))
        if (agency, login) != (AGENCY_NO, LOGIN_ID) or not hmac.compare_digest(password or "", PASSWORD):
            raise Fault("WSAPISecurityFault", "Invalid agency number, login id or password.")
        ticket = secrets.token_hex(16)
        ttl = self.knobs()["ticket_ttl_seconds"]
        self.tx(lambda db: db.execute("INSERT INTO ticket VALUES (?, ?)", [ticket, time.time() + ttl]))
        return {"Ticket": ticket}

    def _check_ticket(self, header, knobs) -> None:
        session = self._child(header, "WSAPISession")
        ticket = (self._child(session, "Ticket").text or "").strip() if self._child(session, "Ticket") is not None else ""
        row = self.one("SELECT expires FROM ticket WHERE ticket = ?", [ticket]) if ticket else None
        if row is None:
            raise Fault("WSAPISecurityFault", "Missing or invalid WSAPISession ticket; call Login.")
        if row["expires"] < time.time() or (knobs["expired_ticket_rate"] and random.random() < knobs["expired_ticket_rate"]):
            self.tx(lambda db: db.execute("DELETE FROM ticket WHERE ticket = ?", [ticket]))
            raise Fault("WSAPISecurityFault", "The ticket has expired; call Login again.")

    def _envelope(self, element: str, result, header: dict | None = None) -> Response:
        env = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap={"s": SOAP_NS, None: NS})
        if header:
            h = etree.SubElement(env, f"{{{SOAP_NS}}}Header")
            session = etree.SubElement(h, f"{{{NS}}}WSAPISession")
            etree.SubElement(session, f"{{{NS}}}Ticket").text = header["Ticket"]
        body = etree.SubElement(env, f"{{{SOAP_NS}}}Body")
        out = etree.SubElement(body, f"{{{NS}}}{element}")
        if result:
            name, (item, t, many), value = result
            if value is not None:
                res = etree.SubElement(out, f"{{{NS}}}{name}")
                if many:
                    for v in value:
                        self._write(etree.SubElement(res, f"{{{NS}}}{item}"), t, v)
                else:
                    self._write(res, t, value)
        return Response(200, etree.tostring(env, xml_declaration=True, encoding="utf-8"), [("Content-Type", "text/xml; charset=utf-8")])

    def _write(self, el, t: str, value) -> None:
        if t not in TYPES:
            el.text = str(value)
            return
        for field, ft in TYPES[t]:
            v = value.get(field)
            if v is None or v == "":
                continue
            sub = etree.SubElement(el, f"{{{NS}}}{field}")
            if ft == "list":
                for code in str(v).split(","):
                    etree.SubElement(sub, f"{{{NS}}}LineOfBusiness").text = code
            elif ft == "boolean":
                sub.text = "true" if v else "false"
            else:
                sub.text = str(v)

    def _fault(self, exc: Fault) -> Response:
        env = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap={"s": SOAP_NS})
        fault = etree.SubElement(etree.SubElement(env, f"{{{SOAP_NS}}}Body"), f"{{{SOAP_NS}}}Fault")
        etree.SubElement(fault, "faultcode").text = "s:Client" if exc.kind == "Client" else "s:Server"
        etree.SubElement(fault, "faultstring").text = exc.message
        if exc.kind.startswith("WSAPI"):
            detail = etree.SubElement(etree.SubElement(fault, "detail"), f"{{{NS}}}{exc.kind}", nsmap={None: NS})
            etree.SubElement(detail, f"{{{NS}}}Message").text = exc.message
            if exc.kind == "WSAPISecurityFault":
                etree.SubElement(detail, f"{{{NS}}}CausalityId").text = new_id()
        return Response(exc.status, etree.tostring(env, xml_declaration=True, encoding="utf-8"), [("Content-Type", "text/xml; charset=utf-8")])

    # --- operations ---------------------------------------------------------------------------------
    @staticmethod
    def _public(table: str, row: dict | None) -> dict | None:
        return None if row is None else {c: row.get(c) for c in COLUMNS[table]}

    def _customer_row(self, customer_id: str) -> dict:
        row = self.one("SELECT * FROM customer WHERE CustomerId = ?", [customer_id])
        seen = set()
        while row and row["merged_into"] and row["CustomerId"] not in seen:
            seen.add(row["CustomerId"])
            row = self.one("SELECT * FROM customer WHERE CustomerId = ?", [row["merged_into"]])
        if row is None:
            raise Fault("WSAPIGeneralFault", f"Customer {customer_id} was not found.")
        return row

    def op_CustomerGetById(self, CustomerId):
        return self._public("customer", self._customer_row(CustomerId))

    def op_CustomerGetByNumber(self, CustomerNumber):
        row = self.one("SELECT * FROM customer WHERE CustomerNumber = ? AND merged_into IS NULL", [CustomerNumber])
        if row is None:
            raise Fault("WSAPIGeneralFault", f"Customer number {CustomerNumber} was not found.")
        return self._public("customer", row)

    def op_CustomerGetListByNamePrefix(self, NamePrefix, CustomerType=None):
        sql, params = (
            "SELECT * FROM customer WHERE name_key >= ? AND name_key < ? AND merged_into IS NULL",
            [NamePrefix.upper(), NamePrefix.upper() + "\uffff"],
        )
        if CustomerType:
            sql, params = sql + " AND CustomerType = ?", [*params, CustomerType]
        return [self._public("customer", r) for r in self.all(sql + " ORDER BY name_key, CustomerNumber", params)]

    def _validate_customer(self, data: dict, *, insert: bool) -> None:
        if insert and not (data.get("FirmName") or data.get("LastName")):
            raise Fault("WSAPIGeneralFault", "A customer needs a FirmName or a LastName.")

    def op_CustomerInsert(self, Customer):
        self._validate_customer(Customer, insert=True)
        return self.customer_insert(Customer)

    def op_CustomerUpdate(self, Customer):
        if not Customer.get("CustomerId"):
            raise Fault("WSAPIGeneralFault", "CustomerUpdate: CustomerId is required.")
        self.customer_update(Customer["CustomerId"], Customer)

    def op_CustomerContactGetList(self, CustomerId):
        row = self._customer_row(CustomerId)
        return [
            self._public("contact", r) for r in self.all("SELECT * FROM contact WHERE CustomerId = ? ORDER BY SortOrder, seq", [row["CustomerId"]])
        ]

    def op_CustomerContactInsert(self, CustomerContact):
        return self.contact_write(None, CustomerContact)

    def op_CustomerContactUpdate(self, CustomerContact):
        return self.contact_write(CustomerContact.get("CustomerContactId") or "-", CustomerContact)

    def op_CustomerContactDelete(self, CustomerContactId):
        row = self.one("SELECT * FROM contact WHERE CustomerContactId = ?", [CustomerContactId])
        if row is None:
            raise Fault("WSAPIGeneralFault", f"Contact {CustomerContactId} was not found.")
        self.tx(lambda db: db.execute("DELETE FROM contact WHERE CustomerContactId = ?", [CustomerContactId]))
        self.notify("CustomerContact", CustomerContactId, row["CustomerId"], "Delete")

    def op_PolicyGet(self, PolicyId):
        row = self.one("SELECT * FROM policy WHERE PolicyId = ?", [PolicyId])
        if row is None:
            raise Fault("WSAPIGeneralFault", f"Policy {PolicyId} was not found.")
        return self._public("policy", row)

    def op_PolicyGetListByCustomerId(self, CustomerId, PolicyStatus=None):
        row = self._customer_row(CustomerId)
        sql, params = "SELECT * FROM policy WHERE CustomerId = ?", [row["CustomerId"]]
        if PolicyStatus:
            sql, params = sql + " AND PolicyStatus = ?", [*params, PolicyStatus]
        return [self._public("policy", r) for r in self.all(sql + " ORDER BY seq", params)]

    def op_PolicyGetListByPolicyNumber(self, PolicyNumber):
        return [self._public("policy", r) for r in self.all("SELECT * FROM policy WHERE PolicyNumber = ? ORDER BY seq", [PolicyNumber])]

    def op_PolicyInsert(self, Policy):
        return self.policy_insert(Policy)

    def op_PolicyRenew(self, Policy):
        prior = self.one("SELECT * FROM policy WHERE PolicyId = ?", [Policy.get("PriorPolicyId") or ""])
        if prior is None:
            raise Fault("WSAPIGeneralFault", "PolicyRenew: PriorPolicyId names no policy.")
        start = date.fromisoformat(prior["PolicyExpirationDate"]) if prior["PolicyExpirationDate"] else date.today()
        renewal = {
            **self._public("policy", prior),
            "PolicyId": None,
            "TypeOfBusiness": "Renewal",
            "PolicyStatus": "Active",
            "PolicyEffectiveDate": start.isoformat(),
            "PolicyExpirationDate": start.replace(year=start.year + 1).isoformat(),
            **{k: v for k, v in Policy.items() if v not in (None, "")},
            "PriorPolicyId": prior["PolicyId"],
        }
        return self.policy_insert(renewal)

    # --- writes (SOAP, control page and JSON control share them; each notifies) ------------------------
    def customer_insert(self, data: dict) -> str:
        customer_id, data = new_id(), _coerce(CUSTOMER, data)

        def write(db):
            number = db.execute("SELECT coalesce(max(CustomerNumber), 0) + 1 FROM customer").fetchone()[0]
            row = {
                **{c: data.get(c) for c in COLUMNS["customer"]},
                "CustomerId": customer_id,
                "CustomerNumber": number,
                "IsActive": 1 if data.get("IsActive") in (None, "") else int(data["IsActive"]),
                "CustomerType": data.get("CustomerType") or "Customer",
                "IsCommercial": int(bool(data.get("IsCommercial") or data.get("FirmName"))),
                "DateCustomerAdded": date.today().isoformat(),
            }
            row["IsPersonal"] = int(not row["IsCommercial"])
            row["name_key"] = _name_key(row)
            db.execute(f"INSERT INTO customer ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})", list(row.values()))  # noqa: S608

        self.tx(write)
        self.notify("Customer", customer_id, customer_id, "Insert")
        return customer_id

    def customer_update(self, customer_id: str, data: dict) -> None:
        row = self.one("SELECT * FROM customer WHERE CustomerId = ? AND merged_into IS NULL", [customer_id])
        if row is None:
            raise Fault("WSAPIGeneralFault", f"Customer {customer_id} was not found.")
        changes = _coerce(CUSTOMER, {k: v for k, v in data.items() if k in COLUMNS["customer"] and k not in ("CustomerId", "CustomerNumber")})
        merged = {**row, **changes}
        changes["name_key"] = _name_key(merged)
        self.tx(
            lambda db: db.execute(
                f"UPDATE customer SET {', '.join(f'{k} = ?' for k in changes)} WHERE CustomerId = ?",  # noqa: S608
                [*changes.values(), customer_id],
            )
        )
        self.notify("Customer", customer_id, customer_id, "Update")

    def customer_merge(self, survivor: str, retired: str) -> None:
        """``retired`` merges into ``survivor``: its contacts and policies move; its id answers the survivor."""
        if survivor == retired:
            raise Fault("WSAPIGeneralFault", "Merge needs two different customers.")
        for cid in (survivor, retired):
            if not self.one("SELECT 1 AS x FROM customer WHERE CustomerId = ? AND merged_into IS NULL", [cid]):
                raise Fault("WSAPIGeneralFault", f"Customer {cid} was not found.")

        def write(db):
            db.execute("UPDATE customer SET merged_into = ?, IsActive = 0 WHERE CustomerId = ?", [survivor, retired])
            db.execute("UPDATE customer SET merged_into = ? WHERE merged_into = ?", [survivor, retired])
            for table in ("contact", "policy"):
                db.execute(f"UPDATE {table} SET CustomerId = ? WHERE CustomerId = ?", [survivor, retired])  # noqa: S608

        self.tx(write)
        self.notify("Customer", retired, survivor, "Merge")
        self.notify("Customer", survivor, survivor, "Update")

    def customer_delete(self, customer_id: str) -> None:
        if not self.one("SELECT 1 AS x FROM customer WHERE CustomerId = ? AND merged_into IS NULL", [customer_id]):
            raise Fault("WSAPIGeneralFault", f"Customer {customer_id} was not found.")

        def write(db):
            for table in ("contact", "policy", "customer"):
                db.execute(f"DELETE FROM {table} WHERE CustomerId = ?", [customer_id])  # noqa: S608

        self.tx(write)
        self.notify("Customer", customer_id, customer_id, "Delete")

    def contact_write(self, contact_id: str | None, data: dict) -> str:
        if contact_id is None:
            customer = self._customer_row(data.get("CustomerId") or "")
            if not data.get("ContactName"):
                raise Fault("WSAPIGeneralFault", "A contact needs a ContactName.")
            row = {**{c: data.get(c) for c in COLUMNS["contact"]}, "CustomerId": customer["CustomerId"], "CustomerContactId": new_id()}
            row["SortOrder"] = int(data.get("SortOrder") or 99)
            self.tx(
                lambda db: db.execute(
                    f"INSERT INTO contact ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",  # noqa: S608
                    list(row.values()),
                )
            )
            self.notify("CustomerContact", row["CustomerContactId"], row["CustomerId"], "Insert")
            return row["CustomerContactId"]
        row = self.one("SELECT * FROM contact WHERE CustomerContactId = ?", [contact_id])
        if row is None:
            raise Fault("WSAPIGeneralFault", f"Contact {contact_id} was not found.")
        changes = _coerce(CONTACT, {k: v for k, v in data.items() if k in COLUMNS["contact"] and k not in ("CustomerId", "CustomerContactId")})
        if changes:
            self.tx(
                lambda db: db.execute(
                    f"UPDATE contact SET {', '.join(f'{k} = ?' for k in changes)} WHERE CustomerContactId = ?",  # noqa: S608
                    [*changes.values(), contact_id],
                )
            )
        self.notify("CustomerContact", contact_id, row["CustomerId"], "Update")
        return contact_id

    def policy_insert(self, data: dict) -> str:
        customer = self._customer_row(data.get("CustomerId") or "")
        if not data.get("PolicyNumber"):
            raise Fault("WSAPIGeneralFault", "A policy needs a PolicyNumber.")
        row = {**{c: data.get(c) for c in COLUMNS["policy"]}, "CustomerId": customer["CustomerId"], "PolicyId": new_id()}
        self.tx(
            lambda db: db.execute(
                f"INSERT INTO policy ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",  # noqa: S608
                list(row.values()),
            )
        )
        self.notify("Policy", row["PolicyId"], row["CustomerId"], "Insert")
        return row["PolicyId"]

    def policy_update(self, policy_id: str, data: dict) -> None:
        row = self.one("SELECT * FROM policy WHERE PolicyId = ?", [policy_id])
        if row is None:
            raise Fault("WSAPIGeneralFault", f"Policy {policy_id} was not found.")
        changes = _coerce(POLICY, {k: v for k, v in data.items() if k in COLUMNS["policy"] and k not in ("CustomerId", "PolicyId")})
        if changes:
            self.tx(
                lambda db: db.execute(
                    f"UPDATE policy SET {', '.join(f'{k} = ?' for k in changes)} WHERE PolicyId = ?",  # noqa: S608
                    [*changes.values(), policy_id],
                )
            )
        self.notify("Policy", policy_id, row["CustomerId"], "Update")

    # --- notifications --------------------------------------------------------------------------------
    def notify(self, record_type: str, record_id: str, customer_id: str, action: str) -> None:
        with self.lock:
            self.pending += 1
        self.outbox.put({"NotificationId": new_id(), "RecordType": record_type, "RecordId": record_id, "CustomerId": customer_id, "Action": action})

    def _deliver_forever(self) -> None:
        held = None  # a notification held back to be sent after the next one (reordering)
        while True:
            try:
                item = self.outbox.get(timeout=0.2)
            except queue.Empty:
                if held is not None:
                    self._send(held, "sent late (reordered)")
                    held = None
                    self._done()
                continue
            try:
                knobs = self.knobs()
                if knobs["delay_ms"]:
                    time.sleep(knobs["delay_ms"] / 1000)
                if knobs["drop_rate"] and random.random() < knobs["drop_rate"]:
                    self._record(item, "dropped")
                    self._done()
                elif held is None and knobs["reorder_rate"] and random.random() < knobs["reorder_rate"]:
                    held = item
                else:
                    self._send(item, "sent")
                    if knobs["duplicate_rate"] and random.random() < knobs["duplicate_rate"]:
                        self._send(item, "duplicate")
                    self._done()
                    if held is not None:
                        self._send(held, "sent late (reordered)")
                        held = None
                        self._done()
            finally:
                self.outbox.task_done()

    def _done(self) -> None:
        with self.lock:
            self.pending -= 1

    def _record(self, item: dict, outcome: str) -> None:
        with self.lock:
            self.log.append({**item, "outcome": outcome})

    def _send(self, item: dict, outcome: str) -> None:
        knobs = self.knobs()
        url = knobs["webhook_url"]
        if not url:
            self._record(item, "not sent (no webhook URL)")
            return
        body = json.dumps({**item, "SentAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}).encode()
        signature = hmac.new(knobs["webhook_secret"].encode(), body, hashlib.sha256).hexdigest()
        req = urllib.request.Request(  # noqa: S310 - a configured http(s) URL
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "X-AMS-Signature": f"sha256={signature}",
            },
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as reply:  # noqa: S310 - a configured http(s) URL
                status = reply.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError:
            status = 0
        self._record(item, outcome if 200 <= status < 300 else f"failed ({status or 'unreachable'})")

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every queued notification is delivered (or dropped)."""
        deadline = time.monotonic() + timeout
        while self.pending > 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.pending <= 0

    # --- JSON control (tests, benchmarks) ------------------------------------------------------------
    def _control(self, work):
        try:
            return work()
        except Fault as exc:
            raise HTTPError(404 if "not found" in exc.message else 400, "bad_request", exc.message) from None

    def c_knobs(self, request):
        return Response.json(self.knobs())

    def c_put_knobs(self, request):
        try:
            return Response.json(self.set_knobs(request.json()))
        except ValueError as exc:
            raise HTTPError(400, "bad_request", str(exc)) from None

    def c_reset(self, request):
        size = request.json().get("customers")
        self.reset(None if size is None else int(size))
        return Response.json({"ok": True, "customers": self.one("SELECT count(*) AS n FROM customer")["n"]})

    def c_flush(self, request):
        return Response.json({"ok": self.flush()})

    def c_stats(self, request):
        counts = self.one(
            "SELECT (SELECT count(*) FROM customer WHERE merged_into IS NULL) AS customers, "
            "(SELECT count(*) FROM policy) AS policies, (SELECT count(*) FROM contact) AS contacts"
        )
        with self.lock:
            outcomes: dict = {}
            for item in self.log:
                outcomes[item["outcome"]] = outcomes.get(item["outcome"], 0) + 1
        return Response.json({**counts, "soap_calls": self.calls, "notifications": outcomes})

    def c_notifications(self, request):
        with self.lock:
            return Response.json({"results": list(self.log)})

    def c_get(self, request):
        row = self._control(lambda: self._customer_row(request.params["id"]))
        policies = self.all("SELECT * FROM policy WHERE CustomerId = ? ORDER BY seq", [row["CustomerId"]])
        contacts = self.all("SELECT * FROM contact WHERE CustomerId = ? ORDER BY SortOrder, seq", [row["CustomerId"]])
        return Response.json(
            {
                **self._public("customer", row),
                "policies": [self._public("policy", p) for p in policies],
                "contacts": [self._public("contact", c) for c in contacts],
            }
        )

    def c_insert(self, request):
        data = request.json()
        return Response.json({"CustomerId": self._control(lambda: self.op_CustomerInsert(data))}, 201)

    def c_update(self, request):
        self._control(lambda: self.customer_update(request.params["id"], request.json()))
        return Response.json({"ok": True})

    def c_delete(self, request):
        self._control(lambda: self.customer_delete(request.params["id"]))
        return Response.json({"ok": True})

    def c_merge(self, request):
        data = request.json()
        self._control(lambda: self.customer_merge(str(data.get("survivor", "")), str(data.get("retired", ""))))
        return Response.json({"ok": True})

    def c_policy_insert(self, request):
        data = request.json()
        return Response.json({"PolicyId": self._control(lambda: self.policy_insert(data))}, 201)

    def c_policy_update(self, request):
        self._control(lambda: self.policy_update(request.params["id"], request.json()))
        return Response.json({"ok": True})

    def c_contact_update(self, request):
        self._control(lambda: self.contact_write(request.params["id"], request.json()))
        return Response.json({"ok": True})

    def c_burst(self, request):
        """Change ``count`` random customers' email or phone (a burst of edits, each notified)."""
        data = request.json()
        r = random.Random(int(data.get("seed", 1)))
        ids = [row["CustomerId"] for row in self.all("SELECT CustomerId FROM customer WHERE merged_into IS NULL ORDER BY seq")]
        changed = r.sample(ids, min(int(data.get("count", 10)), len(ids)))
        for n, customer_id in enumerate(changed):
            commercial = self.one("SELECT IsCommercial FROM customer WHERE CustomerId = ?", [customer_id])["IsCommercial"]
            self.customer_update(customer_id, {"DoingBusinessAs" if commercial else "AddressLine1": f"Burst {data.get('seed', 1)}-{n}"})
        return Response.json({"changed": changed})
