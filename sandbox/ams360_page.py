"""The AMS's control page: find customers, edit a customer with its contacts and policies, merge, delete."""

import html
from urllib.parse import quote

from .ams360_wsdl import CONTACT, CUSTOMER, POLICY
from .http import Response

READ_ONLY = {"CustomerId", "CustomerNumber", "CustomerContactId", "PolicyId", "DateCustomerAdded"}
STYLE = (
    "body{font-family:sans-serif;margin:2em}td,th{padding:2px 6px;text-align:left}table{border-collapse:collapse}"
    "tr:nth-child(even){background:#f3f3f3}input{width:11em}.msg{background:#ffe;padding:.5em}"
)


def _e(value) -> str:
    return html.escape("" if value is None else str(value))


def _form(kind: str, fields, row: dict, button: str) -> str:
    inputs = "".join(
        f"<tr><th><label for='{kind}-{row.get('CustomerContactId') or row.get('PolicyId') or ''}-{f}'>{f}</label></th>"
        f"<td><input id='{kind}-{row.get('CustomerContactId') or row.get('PolicyId') or ''}-{f}' name='{f}' value='{_e(row.get(f))}'"
        f"{' readonly' if f in READ_ONLY else ''}></td></tr>"
        for f, _ in fields
    )
    key = row.get("CustomerContactId") or row.get("PolicyId") or row.get("CustomerId") or ""
    return (
        f"<form method='post'><input type='hidden' name='_action' value='{kind}'><input type='hidden' name='_key' value='{_e(key)}'>"
        f"<table>{inputs}</table><button>{button}</button></form>"
    )


def page(ams, request) -> Response:
    q = request.query.get("q", "").strip()
    selected = request.query.get("id", "")
    msg = request.query.get("msg", "")
    rows = (
        ams.op_CustomerGetListByNamePrefix(q)[:50]
        if q
        else [ams._public("customer", r) for r in ams.all("SELECT * FROM customer WHERE merged_into IS NULL ORDER BY seq DESC LIMIT 50")]
    )
    total = ams.one("SELECT count(*) AS n FROM customer WHERE merged_into IS NULL")["n"]
    table = "".join(
        f"<tr><td><a href='/_sandbox/ams/?id={_e(r['CustomerId'])}'>{_e(r['CustomerNumber'])}</a></td>"
        f"<td>{_e(r.get('FirmName') or ', '.join(filter(None, [r.get('LastName'), r.get('FirstName')])))}</td>"
        f"<td>{'Commercial' if r['IsCommercial'] else 'Personal'}</td>"
        f"<td>{_e(r['CustomerId'])}</td></tr>"
        for r in rows
    )
    detail = ""
    if selected:
        row = ams.one("SELECT * FROM customer WHERE CustomerId = ?", [selected])
        if row and row["merged_into"]:
            survivor = _e(row["merged_into"])
            detail = f"<p>Customer {_e(selected)} was merged into <a href='/_sandbox/ams/?id={survivor}'>{survivor}</a>.</p>"
        elif row:
            contacts = ams.all("SELECT * FROM contact WHERE CustomerId = ? ORDER BY SortOrder, seq", [selected])
            policies = ams.all("SELECT * FROM policy WHERE CustomerId = ? ORDER BY seq", [selected])
            detail = (
                f"<h2>Customer {_e(row['CustomerNumber'])}</h2>{_form('customer', CUSTOMER, row, 'Save customer')}"
                "<form method='post'><input type='hidden' name='_action' value='delete'>"
                f"<input type='hidden' name='_key' value='{_e(selected)}'>"
                "<button>Delete this customer</button></form>"
                "<form method='post'><input type='hidden' name='_action' value='merge'>"
                f"<input type='hidden' name='survivor' value='{_e(selected)}'>"
                "<label for='retired'>Merge into this customer the customer with id</label> <input id='retired' name='retired'>"
                "<button>Merge</button></form>"
                "<h3>Contacts</h3>"
                + "".join(_form("contact", CONTACT, c, "Save contact") for c in contacts)
                + "<h3>Policies</h3>"
                + "".join(_form("policy", POLICY, p, "Save policy") for p in policies)
            )
        else:
            detail = f"<p>No customer {_e(selected)}.</p>"
    body = f"""<!doctype html><html><head><title>Sandbox AMS360</title><style>{STYLE}</style></head><body>
<h1>Agency management system (AMS360 WSAPI sandbox)</h1>
<p><a href="/_sandbox/">Sandbox home</a> · WSDL: <a href="/ams360/v3/WSAPIService.svc?wsdl">/ams360/v3/WSAPIService.svc?wsdl</a>
· knobs: <code>PUT /_sandbox/ams/knobs</code></p>
{f"<p class='msg'>{_e(msg)}</p>" if msg else ""}
<form><label for="q">Name prefix</label> <input id="q" name="q" value="{_e(q)}"> <button>Find</button></form>
<p>{total} customers.</p><table><tr><th>number</th><th>name</th><th>kind</th><th>id</th></tr>{table}</table>
{detail}</body></html>"""
    return Response.html(body)


def page_post(ams, request) -> Response:
    from .ams360 import Fault

    form = request.form()
    action, key = form.pop("_action", ""), form.pop("_key", "")
    values = {k: v for k, v in form.items() if k not in READ_ONLY}
    target, msg = key, "Saved."
    try:
        if action == "customer":
            ams.customer_update(key, values)
        elif action == "contact":
            ams.contact_write(key, values)
            target = ams.one("SELECT CustomerId FROM contact WHERE CustomerContactId = ?", [key])["CustomerId"]
        elif action == "policy":
            ams.policy_update(key, values)
            target = ams.one("SELECT CustomerId FROM policy WHERE PolicyId = ?", [key])["CustomerId"]
        elif action == "merge":
            ams.customer_merge(form.get("survivor", ""), form.get("retired", "").strip())
            target, msg = form.get("survivor", ""), "Merged."
        elif action == "delete":
            ams.customer_delete(key)
            target, msg = "", "Deleted."
    except Fault as exc:
        msg = exc.message
    return Response.redirect(f"/_sandbox/ams/?id={quote(target)}&msg={quote(msg)}")
