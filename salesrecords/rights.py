"""Per-user rights on sales record types, on top of the security group.

Every right on sales records needs at least Visible on Sales Enablement
(``salesrecords.view_salesrecord``). Then, for one user and one type: a ``SalesRecordTypeRight`` row
decides (it may grant more than the group, e.g. add for a Visible user, or less); without a row
the security group's level decides. Superusers may do everything.
"""

from django.db.models import QuerySet

from .models import SalesRecordType, SalesRecordTypeRight

ACTIONS = ("view", "add", "change", "delete")


def _rows(user) -> dict[int, SalesRecordTypeRight]:
    cache = getattr(user, "_sales_type_rights", None)
    if cache is None:
        cache = {r.record_type_id: r for r in SalesRecordTypeRight.objects.filter(user=user)} if user.pk else {}
        user._sales_type_rights = cache
    return cache


def type_allows(user, record_type: SalesRecordType | int, action: str) -> bool:
    """Whether ``user`` may ``action`` ("view", "add", "change", "delete") records of ``record_type``."""
    assert action in ACTIONS, action
    if not user or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    if not user.has_perm("salesrecords.view_salesrecord"):
        return False
    type_id = record_type if isinstance(record_type, int) else record_type.pk
    row = _rows(user).get(type_id)
    if row is not None:
        return getattr(row, f"can_{action}")
    return user.has_perm(f"salesrecords.{action}_salesrecord")


def allowed_types(user, action: str) -> QuerySet:
    """The record types ``user`` may ``action`` on (one query plus the user's rights rows)."""
    types = list(SalesRecordType.objects.all())
    return SalesRecordType.objects.filter(pk__in=[t.pk for t in types if type_allows(user, t, action)])


def may_mass_create(user, record_type: SalesRecordType | None = None) -> bool:
    """Edit on Individuals, Visible on Sales Enablement and add on the type (any active type when None)."""
    if not user or not user.is_authenticated:
        return False
    if not (user.has_perm("individuals.change_individual") and user.has_perm("salesrecords.view_salesrecord")):
        return False
    if record_type is not None:
        return record_type.active and type_allows(user, record_type, "add")
    return any(type_allows(user, t, "add") for t in SalesRecordType.objects.filter(active=True))


def mass_create_denial(user) -> str:
    """Why ``user`` may not use *Create Sales Records*, naming the right they lack ("" when they may)."""
    from accounts.rights import right_needed

    for perm in ("individuals.change_individual", "salesrecords.view_salesrecord"):
        if not user.has_perm(perm):
            group = getattr(user, "security_group", None)
            yours = f"your security group ({group.name})" if group else "your security group"
            return f"Create Sales Records needs {right_needed(perm)}; {yours} does not give it."
    if not may_mass_create(user):
        return (
            "Create Sales Records needs the right to add sales records of at least one active sales record type: "
            f"{right_needed('salesrecords.add_salesrecord')}, or Add for a type in Sales record type rights."
        )
    return ""
