"""The local list of benefits-admin accounts, and importing one into an employer group."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import AuditLog, User
from accounts.services import audit
from integrations.clients.benefitpoint import BenefitPointClient, BenefitPointResultError, benefitpoint_client
from integrations.http import IntegrationError
from integrations.models import ExternalId
from integrations.registry import System, external_id_link, external_id_lookup, external_id_of, external_id_record_sync
from plans.models import EmployerGroup
from plans.services import employer_group_create

from ..mapping import contact_name
from ..models import AccountLink, BenefitsAdminAccount, RemotePlan


def accounts_refresh(*, actor: User | None, client: BenefitPointClient | None = None) -> int:
    """Reload the local list of accounts from the system (one ``findAccounts`` call); returns how many.

    Raises ``IntegrationError`` (a message for staff) when the system can't be asked.
    """
    own = client is None
    client = client or benefitpoint_client()
    try:
        summaries = client.find_accounts("")
    finally:
        if own:
            client.logout()
    seen = []
    with transaction.atomic():
        existing = {a.account_id: a for a in BenefitsAdminAccount.objects.all()}
        new, changed = [], []
        for s in summaries:
            values = {
                "name": s.get("accountName") or "",
                "classification": s.get("accountClassification") or "",
                "account_type": s.get("accountType") or "",
                "active": bool(s.get("active")),
                "office_name": s.get("officeName") or "",
                "last_modified_on": parse_datetime(s["lastModifiedOn"]) if s.get("lastModifiedOn") else None,
            }
            seen.append(s["accountID"])
            row = existing.get(s["accountID"])
            if row is None:
                new.append(BenefitsAdminAccount(account_id=s["accountID"], **values))
            else:
                for k, v in values.items():
                    setattr(row, k, v)
                changed.append(row)
        BenefitsAdminAccount.objects.bulk_create(new)
        BenefitsAdminAccount.objects.bulk_update(
            changed, ["name", "classification", "account_type", "active", "office_name", "last_modified_on", "refreshed_at"]
        )
        BenefitsAdminAccount.objects.exclude(account_id__in=seen).delete()
        audit(
            actor=actor,
            action=AuditLog.Action.SYNC,
            model=BenefitsAdminAccount,
            object_repr="benefits-admin accounts",
            summary=f"Refreshed the list of benefits-admin accounts: {len(seen)} ({len(new)} new)",
        )
    return len(seen)


def _group_fields(account: dict, contacts: list[dict]) -> dict:
    info = account.get("groupAccountInfo") or {}
    common = info.get("commonGroupAccountInfo") or {}
    address = account.get("mainAddress") or {}
    addresses = []
    if address.get("street1"):
        addresses.append(
            {
                "kind": "mailing",
                "line1": address["street1"],
                "line2": address.get("street2") or "",
                "city": address.get("city") or "",
                "state": address.get("state") or "",
                "zip_code": address.get("zip") or "",
            }
        )
    people = []
    for c in contacts:
        person = c.get("contact") or {}
        phones = person.get("phones") or []
        people.append(
            {
                "name": contact_name(person.get("firstName"), person.get("lastName")),
                "title": c.get("title") or "",
                "email": person.get("email") or "",
                "phone": phones[0].get("number", "") if phones else "",
                "is_primary": bool(c.get("primary")),
            }
        )
    return {
        "name": info.get("accountName") or f"Account {account['accountID']}",
        "dba": info.get("DBA") or "",
        "account_number": f"BA-{account['accountID']}",
        "federal_ein": common.get("taxpayerID") or "",
        "sic_code": info.get("SICCode") or "",
        "employee_count": info.get("numberOfFTEs"),
        "status": EmployerGroup.Status.ACTIVE if account.get("active", True) else EmployerGroup.Status.INACTIVE,
        "addresses": addresses,
        "contacts": people,
    }


def ams_customer_id(account: dict) -> str:
    """The AMS customer id the account carries (``accountIntegrationInfo.amsCustomerId``), or ``""``."""
    info = (account.get("groupAccountInfo") or {}).get("accountIntegrationInfo") or {}
    return (info.get("amsCustomerId") or "").strip()


def ams_linked_group(account: dict) -> EmployerGroup | None:
    """The employer group the account's ``amsCustomerId`` is linked to (via the AMS link), or ``None``: by id only."""
    customer_id = ams_customer_id(account)
    found = external_id_lookup(system=System.AMS, object_type="customer", external_id=customer_id) if customer_id else None
    return found if isinstance(found, EmployerGroup) else None


def _already_linked(account_id: int) -> None:
    link = AccountLink.objects.select_related("group").filter(account_id=account_id).first()
    if link:
        url = reverse("admin:plans_employergroup_change", args=[link.group_id])
        raise ValidationError({"account_id": f"Account {account_id} is already linked to {link.group.name}: {url}"})


def remote_plans_store(account_id: int, products: list[dict], rates: dict[int, dict]) -> None:
    """Keep the last seen copy of an account's products (for choosing and previews)."""
    for product in products:
        RemotePlan.objects.update_or_create(
            product_id=product["productID"], defaults={"account_id": account_id, "data": product, "rate": rates.get(product["productID"]) or {}}
        )


def fetch_account_plans(client: BenefitPointClient, account_id: int) -> tuple[list[dict], dict[int, dict]]:
    """Every product of the account with its current rate (findProducts, then getProduct and the rate each)."""
    products, rates = [], {}
    for summary in client.find_products(account_id):
        products.append(client.get_product(summary["productID"]))
        found = client.find_rates(summary["productID"])
        if found:
            rates[summary["productID"]] = client.get_rate(found[-1]["rateID"])
    return products, rates


def account_import(*, actor: User | None, account_id: int, group: EmployerGroup | None = None) -> AccountLink:
    """Import a benefits-admin account by its ID into a new employer group (or link ``group``).

    A new group gets the account's name, address, EIN and contacts. Raises ``ValidationError`` when
    the account is linked already (with a link to that group), the group is linked to another
    account, or the system refuses (e.g. "required Service Info fields missing"); nothing is
    written then.
    """
    _already_linked(account_id)
    if group is not None and AccountLink.objects.filter(group=group).exists():
        raise ValidationError({"group": f"{group.name} is linked to another benefits-admin account already."})
    try:
        with benefitpoint_client() as client:
            account = client.get_account(account_id)
            contacts = client.find_account_contacts(account_id)
            products, rates = fetch_account_plans(client, account_id)
    except BenefitPointResultError as exc:
        raise ValidationError({"account_id": f"The benefits-admin system refused account {account_id}: {exc.message}"}) from exc
    except IntegrationError as exc:
        raise ValidationError({"account_id": f"Account {account_id} could not be read: {exc.message}"}) from exc
    if not account:
        raise ValidationError({"account_id": f"The benefits-admin system has no account {account_id}."})
    ams_group = ams_linked_group(account)
    if ams_group is not None and group is not None and group != ams_group:
        url = reverse("admin:plans_employergroup_change", args=[ams_group.pk])
        raise ValidationError(
            {
                "group": f"Account {account_id} is AMS customer {ams_customer_id(account)}, which is "
                f"{ams_group.name} here ({url}): import it into that group."
            }
        )
    if ams_group is not None and AccountLink.objects.filter(group=ams_group).exists():
        raise ValidationError(
            {"group": f"{ams_group.name} (AMS customer {ams_customer_id(account)}) is linked to another benefits-admin account already."}
        )
    group = group or ams_group
    with transaction.atomic():
        _already_linked(account_id)  # again, inside the transaction: a concurrent import lost the race
        fields = _group_fields(account, contacts)
        if group is None:
            group = employer_group_create(actor=actor, **fields)
        external_id_link(obj=group, system=System.BENEFITS_ADMIN, object_type="account", external_id=str(account_id))
        link = AccountLink.objects.create(group=group, account_id=account_id, account_name=fields["name"], created_by=actor)
        remote_plans_store(account_id, products, rates)
        audit(
            actor=actor,
            action=AuditLog.Action.IMPORT,
            obj=link,
            summary=f"Imported benefits-admin account {account_id} into {group.name} ({len(products)} plans there)"
            + (f", linked by its AMS customer id {ams_customer_id(account)}" if ams_group else ""),
            data={"account_id": account_id, "group": group.pk, "at": timezone.now().isoformat()},
        )
    return link


def ams_account_links() -> dict[int, AccountLink]:
    """Links whose group is an AMS customer (an active AMS id), by benefits-admin account ID."""
    return {
        link.account_id: link
        for link in AccountLink.objects.filter(
            group__external_ids__system=System.AMS, group__external_ids__object_type="customer", group__external_ids__status=ExternalId.Status.ACTIVE
        ).select_related("group")
    }


STAYS_THERE = "{what} edited in the benefits-admin system: stays there, won't reach the agency system (the AMS owns it)."


def edits_there_note(client: BenefitPointClient, *, account_ids: set[int], contact_ids: set[int]) -> int:
    """Accounts and contacts edited in the benefits-admin system, for groups the AMS owns: never pushed to
    the AMS (nor copied here); noted on the group's benefits-admin link as *won't reach the agency system*.

    Only accounts linked to a group that has an AMS id count; a contact costs one ``getAccountContact``
    (``findChanges`` names the contact, not its account). Returns how many links were noted.
    """
    links = ams_account_links()
    if not links:
        return 0
    edited: dict[int, set[str]] = {}
    for account_id in account_ids & set(links):
        edited.setdefault(account_id, set()).add("Account data")
    for contact_id in contact_ids:
        account_id = (client.get_account_contact(contact_id) or {}).get("accountID")
        if account_id in links:
            edited.setdefault(account_id, set()).add("Contacts")
    for account_id, what in edited.items():
        row = external_id_of(links[account_id].group, system=System.BENEFITS_ADMIN, object_type="account")
        if row is not None:
            external_id_record_sync(row=row, ok=True, changed=True, reason=STAYS_THERE.format(what=" and ".join(sorted(what))))
    return len(edited)
