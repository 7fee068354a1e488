"""The benefits-admin system's control surface (no auth, no faults): a page where a person lists
accounts and plans, edits an account and its contacts, edits, cancels, deletes and adds a plan, and
sets the knobs; JSON for tests. Every edit is the far side's own (``findChanges`` reports it)."""

import html
import json

from ..http import HTTPError, Response
from ..soap import SoapFault
from .data import BILLING_TYPES, CANCELLATION_REASONS, CARRIERS, PRODUCT_TYPES, STATUSES
from .service import KNOBS, BenefitPoint, _Refused

BASE = "/benefitpoint"
EDITABLE = ["name", "policyNumber", "productStatus", "effectiveAsOf", "renewalOn", "billingType", "carrierID", "productTypeID"]
STYLE = (
    "<style>body{font-family:sans-serif;margin:2em}td,th{padding:2px 8px;text-align:left}"
    "table{border-collapse:collapse}tr:nth-child(even){background:#f3f3f3}</style>"
)


def _e(value) -> str:
    return html.escape("" if value is None else str(value))


class Control:
    def __init__(self, system: BenefitPoint):
        self.system = system

    def routes(self, router) -> None:
        for method, path, handler in [
            ("GET", f"{BASE}/", self.page),
            ("POST", f"{BASE}/", self.knobs_post),
            ("GET", f"{BASE}/accounts/(?P<id>[0-9]+)", self.account_page),
            ("POST", f"{BASE}/accounts/(?P<id>[0-9]+)", self.account_post),
            ("POST", f"{BASE}/contacts/(?P<id>[0-9]+)", self.contact_post),
            ("POST", f"{BASE}/accounts/(?P<id>[0-9]+)/products", self.add_post),
            ("POST", f"{BASE}/products/(?P<id>[0-9]+)", self.edit_post),
            ("POST", f"{BASE}/products/(?P<id>[0-9]+)/cancel", self.cancel_post),
            ("POST", f"{BASE}/products/(?P<id>[0-9]+)/delete", self.delete_post),
            ("GET", f"{BASE}/_control/knobs", self.get_knobs),
            ("PUT", f"{BASE}/_control/knobs", self.put_knobs),
            ("POST", f"{BASE}/_control/reset", self.reset),
            ("GET", f"{BASE}/_control/stats", self.stats),
            ("GET", f"{BASE}/_control/products", self.products),
            ("POST", f"{BASE}/_control/accounts", self.create_account),
            ("PATCH", f"{BASE}/_control/products/(?P<id>[0-9]+)", self.patch_product),
            ("DELETE", f"{BASE}/_control/products/(?P<id>[0-9]+)", self.delete_product),
            ("POST", f"{BASE}/_control/products", self.create_product),
            ("PATCH", f"{BASE}/_control/accounts/(?P<id>[0-9]+)", self.patch_account),
            ("GET", f"{BASE}/_control/contacts", self.contacts),
            ("PATCH", f"{BASE}/_control/contacts/(?P<id>[0-9]+)", self.patch_contact),
            ("POST", f"{BASE}/_control/bench-seed", self.bench_seed),
        ]:
            router.add(method, path, handler, api=False)

    # --- JSON -----------------------------------------------------------------------------------
    def get_knobs(self, request):
        return Response.json(self.system.knobs())

    def put_knobs(self, request):
        try:
            self.system.set_knobs(request.json())
        except ValueError as exc:
            raise HTTPError(400, "bad_request", str(exc)) from None
        return self.get_knobs(request)

    def reset(self, request):
        self.system.reset()
        return Response.json({"ok": True})

    def stats(self, request):
        counts = self.system.store.one(
            "SELECT (SELECT count(*) FROM bp_account) AS accounts, "
            "(SELECT count(*) FROM bp_product) AS products, (SELECT count(*) FROM bp_rate) AS rates"
        )
        with self.system.calls_lock:
            calls = dict(self.system.calls)
        return Response.json({**counts, "calls": calls, "total_calls": sum(calls.values())})

    def products(self, request):
        """Every product (optionally of one account, or carrying one marker) with its rates."""
        sql, params = "SELECT * FROM bp_product WHERE 1 = 1", []
        if request.query.get("accountID"):
            sql, params = sql + " AND account_id = ?", [*params, int(request.query["accountID"])]
        out = []
        for row in self.system.store.all(sql + " ORDER BY product_id", params):
            product = self.system.product(row)
            marker = request.query.get("alternativePlanID")
            if marker and (product.get("planInfo") or {}).get("alternativePlanID") != marker:
                continue
            product["rates"] = [
                json.loads(r["data"]) | {"rateID": r["rate_id"]}
                for r in self.system.store.all("SELECT * FROM bp_rate WHERE product_id = ?", [row["product_id"]])
            ]
            out.append(product)
        return Response.json({"results": out})

    def bench_seed(self, request):
        data = request.json()
        try:
            accounts, plans = int(data.get("accounts", 0)), int(data.get("plans", 8))
        except (TypeError, ValueError):
            raise HTTPError(400, "bad_request", "accounts and plans are numbers.") from None
        return Response.json({"accountIDs": self.system.bench_seed(accounts, plans)}, 201)

    def create_account(self, request):
        data = request.json()
        account_id = self.system.create_account(data, service_info_complete=data.pop("_service_info_complete", True))
        return Response.json({"accountID": account_id}, 201)

    def _result(self, call) -> Response:
        try:
            result = call()
        except _Refused as exc:
            raise HTTPError(400, "validation_failed", "; ".join(e["message"] for e in exc.errors)) from None
        except SoapFault as exc:
            raise HTTPError(404, "not_found", exc.faultstring) from None
        return Response.json(result)

    def patch_account(self, request):
        """A person's edit of an account there: ``{"groupAccountInfo": {"accountName": ...}, "mainAddress": {...}}``."""
        return self._result(lambda: self.system.change_account(int(request.params["id"]), request.json()))

    def contacts(self, request):
        """The contacts of one account (``?accountID=``), as ``findAccountContacts`` gives them."""
        try:
            account_id = int(request.query.get("accountID", ""))
        except ValueError:
            raise HTTPError(400, "bad_request", "accountID is a number.") from None
        return self._result(lambda: {"results": self.system.op_findAccountContacts({"accountID": account_id})["accountContacts"]})

    def patch_contact(self, request):
        """A person's edit of a contact there: ``{"contact": {"firstName": ..., "email": ...}, "title": ...}``."""
        return self._result(lambda: self.system.change_contact(int(request.params["id"]), request.json()))

    def patch_product(self, request):
        return self._result(lambda: self.system.change_product(int(request.params["id"]), request.json()))

    def create_product(self, request):
        """A product made there by a person; ``rateTiers`` given: its rate too."""
        data = request.json()
        tiers = data.pop("rateTiers", None)

        def create():
            result = self.system.op_createProduct({"product": data})["result"]
            if tiers:
                self.system.op_createRate(
                    {
                        "rate": {
                            "productID": result["ID"],
                            "rateTiers": tiers,
                            "effectiveAsOf": data.get("effectiveAsOf"),
                            "expirationOn": data.get("renewalOn"),
                        }
                    }
                )
            return result

        return self._result(create)

    def delete_product(self, request):
        if not self.system.delete_product(int(request.params["id"])):
            raise HTTPError(404, "not_found", "No such product.")
        return Response.json({"ok": True})

    # --- HTML -----------------------------------------------------------------------------------
    def _page(self, title: str, body: str) -> Response:
        return Response.html(
            f"<!doctype html><html><head><title>{_e(title)}</title>{STYLE}</head><body>"
            f"<p><a href='{BASE}/'>Benefits-admin system</a> · <a href='/_sandbox/'>Sandbox</a></p>"
            f"<h1>{_e(title)}</h1>{body}</body></html>"
        )

    def page(self, request):
        knobs = self.system.knobs()
        inputs = "".join(
            f"<tr><th><label for='{n}'>{n}</label></th><td><input id='{n}' name='{n}' value='{_e(v)}'></td></tr>" for n, v in knobs.items()
        )
        rows = self.system.store.all(
            "SELECT a.account_id, a.account_name, a.service_info_complete, a.last_modified_on, "
            "(SELECT count(*) FROM bp_product p WHERE p.account_id = a.account_id) AS plans "
            "FROM bp_account a ORDER BY a.account_name"
        )
        table = "".join(
            f"<tr><td><a href='{BASE}/accounts/{r['account_id']}'>{r['account_id']}</a></td><td>{_e(r['account_name'])}</td>"
            f"<td>{r['plans']}</td><td>{'complete' if r['service_info_complete'] else 'fields missing'}</td>"
            f"<td>{_e(r['last_modified_on'])}</td></tr>"
            for r in rows
        )
        return self._page(
            "Benefits-admin system (BrokerConnect v4)",
            f"""
<p>WSDL: <a href="{BASE}/services/BrokerConnectV4?wsdl">{BASE}/services/BrokerConnectV4?wsdl</a></p>
<h2>Fault knobs (every SOAP call)</h2><form method="post"><table>{inputs}</table><button>Save knobs</button>
<button name="reset" value="1">Reset to demo data</button></form>
<h2>Accounts ({len(rows)})</h2><table><tr><th>Account ID</th><th>Name</th><th>Plans</th><th>Service info</th>
<th>Last modified</th></tr>{table}</table>""",
        )

    def knobs_post(self, request):
        form = request.form()
        if form.pop("reset", None):
            self.system.reset()
        else:
            try:
                self.system.set_knobs({k: v for k, v in form.items() if k in KNOBS})
            except ValueError as exc:
                raise HTTPError(400, "bad_request", str(exc)) from None
        return Response.redirect(f"{BASE}/")

    @staticmethod
    def _select(name: str, options: dict, value) -> str:
        items = "".join(f"<option value='{_e(k)}'{' selected' if str(k) == str(value) else ''}>{_e(v)}</option>" for k, v in options.items())
        return f"<select name='{name}' aria-label='{name}'>{items}</select>"

    def _fields(self, product: dict) -> str:
        return " ".join(
            [
                f"<input name='name' aria-label='name' value='{_e(product.get('name'))}' size='28'>",
                f"<input name='policyNumber' aria-label='policyNumber' value='{_e(product.get('policyNumber'))}' size='12'>",
                self._select("productTypeID", {k: v[1] for k, v in PRODUCT_TYPES.items()}, product.get("productTypeID")),
                self._select("carrierID", {k: v[0] for k, v in CARRIERS.items()}, product.get("carrierID")),
                self._select("productStatus", {s: s for s in STATUSES}, product.get("productStatus") or "Current"),
                self._select("billingType", {s: s.replace("_", " ") for s in BILLING_TYPES}, product.get("billingType")),
                f"<input name='effectiveAsOf' aria-label='effectiveAsOf' type='date' value='{_e(product.get('effectiveAsOf'))}'>",
                f"<input name='renewalOn' aria-label='renewalOn' type='date' value='{_e(product.get('renewalOn'))}'>",
            ]
        )

    def account_page(self, request):
        account_id = int(request.params["id"])
        account = self.system.store.one("SELECT * FROM bp_account WHERE account_id = ?", [account_id])
        if account is None:
            raise HTTPError(404, "not_found", "No such account.")
        rows = [
            self.system.product(r) for r in self.system.store.all("SELECT * FROM bp_product WHERE account_id = ? ORDER BY product_id", [account_id])
        ]
        reasons = {r: r.replace("_", " ") for r in CANCELLATION_REASONS}
        data = json.loads(account["data"])
        info, address = data.get("groupAccountInfo") or {}, data.get("mainAddress") or {}
        tax = (info.get("commonGroupAccountInfo") or {}).get("taxpayerID")
        fields = [
            ("accountName", "Name", info.get("accountName")),
            ("DBA", "DBA", info.get("DBA")),
            ("taxpayerID", "EIN", tax),
            ("street1", "Street", address.get("street1")),
            ("city", "City", address.get("city")),
            ("state", "State", address.get("state")),
            ("zip", "ZIP", address.get("zip")),
        ]
        account_form = "".join(
            f"<label>{label} <input name='{name}' aria-label='{name}' value='{_e(value)}'></label> " for name, label, value in fields
        )
        contacts = "".join(
            f"""<tr id="contact-{c["contact"]["contactID"]}"><td>{c["contact"]["contactID"]}</td><td>
<form method="post" action="{BASE}/contacts/{c["contact"]["contactID"]}">"""
            + "".join(
                f"<input name='{n}' aria-label='{n}' value='{_e(v)}' size='16'> "
                for n, v in (
                    ("firstName", c["contact"].get("firstName")),
                    ("lastName", c["contact"].get("lastName")),
                    ("email", c["contact"].get("email")),
                    ("title", c.get("title")),
                )
            )
            + f"<button>Save</button></form></td><td>{_e(c['lastModifiedOn'])}</td></tr>"
            for c in self.system.op_findAccountContacts({"accountID": account_id})["accountContacts"]
        )
        items = "".join(
            f"""<tr id="product-{p["productID"]}"><td>{p["productID"]}</td><td>{_e(p.get("parentProductID"))}</td>
<td><form method="post" action="{BASE}/products/{p["productID"]}">{self._fields(p)} <button>Save</button></form></td>
<td><form method="post" action="{BASE}/products/{p["productID"]}/cancel">{self._select("cancellationReason", reasons, "")}
<button>Cancel plan</button></form></td>
<td><form method="post" action="{BASE}/products/{p["productID"]}/delete"><button>Delete</button></form></td>
<td>{_e((p.get("planInfo") or {}).get("alternativePlanID"))}</td><td>{_e(p["lastModifiedOn"])}</td></tr>"""
            for p in rows
        )
        return self._page(
            f"{account['account_name']} ({account_id})",
            f"""
<h2>Account</h2><form method="post" action="{BASE}/accounts/{account_id}">{account_form}<button>Save account</button></form>
<p>Last modified {_e(account["last_modified_on"])}</p>
<h2>Contacts</h2><table><tr><th>Contact ID</th><th>First name, last name, email, title</th><th>Last modified</th></tr>
{contacts}</table>
<h2>Plans</h2><table><tr><th>Product ID</th><th>Renews</th><th>Plan</th><th></th><th></th><th>alternativePlanID</th><th>Last modified</th></tr>
{items}</table><h2>Add a plan</h2><form method="post" action="{BASE}/accounts/{account_id}/products">
{self._fields({})} <button>Add plan</button></form>""",
        )

    def _form_product(self, request) -> dict:
        form = request.form()
        values = {k: form[k] for k in EDITABLE if form.get(k)}
        for key in ("carrierID", "productTypeID"):
            if key in values:
                values[key] = int(values[key])
        return values

    def _back(self, product_id: int) -> Response:
        row = self.system.store.one("SELECT account_id FROM bp_product WHERE product_id = ?", [product_id])
        return Response.redirect(f"{BASE}/accounts/{row['account_id']}" if row else f"{BASE}/")

    def account_post(self, request):
        account_id = int(request.params["id"])
        form = request.form()
        info = {k: form[k] for k in ("accountName", "DBA") if form.get(k)}
        if form.get("taxpayerID"):
            info["commonGroupAccountInfo"] = {"taxpayerID": form["taxpayerID"]}
        address = {k: form[k] for k in ("street1", "city", "state", "zip") if form.get(k)}
        self._result(
            lambda: self.system.change_account(
                account_id, {**({"groupAccountInfo": info} if info else {}), **({"mainAddress": address} if address else {})}
            )
        )
        return Response.redirect(f"{BASE}/accounts/{account_id}")

    def contact_post(self, request):
        contact_id = int(request.params["id"])
        form = request.form()
        person = {k: form[k] for k in ("firstName", "lastName", "email") if form.get(k)}
        changes = {"contact": person, **({"title": form["title"]} if form.get("title") else {})}
        self._result(lambda: self.system.change_contact(contact_id, changes))
        row = self.system.store.one("SELECT account_id FROM bp_contact WHERE contact_id = ?", [contact_id])
        return Response.redirect(f"{BASE}/accounts/{row['account_id']}")

    def edit_post(self, request):
        product_id = int(request.params["id"])
        self._result(lambda: self.system.change_product(product_id, self._form_product(request)))
        return self._back(product_id)

    def cancel_post(self, request):
        product_id = int(request.params["id"])
        from datetime import date

        reason = request.form().get("cancellationReason") or "Client_Request"
        self._result(
            lambda: self.system.change_product(
                product_id, {"productStatus": "Cancelled", "cancellationReason": reason, "cancellationOn": date.today().isoformat()}
            )
        )
        return self._back(product_id)

    def delete_post(self, request):
        product_id = int(request.params["id"])
        back = self._back(product_id)
        self.system.delete_product(product_id)
        return back

    def add_post(self, request):
        account_id = int(request.params["id"])
        values = {
            "accountID": account_id,
            "productStatus": "Current",
            "premiumPaymentFrequency": "Monthly",
            "policyOriginationReason": "New",
            **self._form_product(request),
        }
        self._result(lambda: self.system.op_createProduct({"product": values})["result"])
        return Response.redirect(f"{BASE}/accounts/{account_id}")
