"""The quick search's employees (``integrations.search`` finds this module by name)."""

from django.db.models import Q
from django.urls import reverse
from django.utils.formats import date_format

from integrations.search import Hit, Source, register

from .models import Employee


def employee_quick_find(*, words: tuple[str, ...], text: str, email: bool, pks=(), limit: int = 8) -> list[Employee]:
    """Employees by name (each word at the start of the first or last name), email, or benefits account id
    (exact), plus ``pks``; the group joined: ONE query."""
    match = Q(pk__in=[])
    if email:
        match = Q(email__istartswith=text)
    elif words:
        match = Q()
        for word in words:
            match &= Q(first_name__istartswith=word) | Q(last_name__istartswith=word)
        if " " not in text:
            match |= Q(benefits_account_id=text)
    if pks:
        match |= Q(pk__in=list(pks))
    return list(
        Employee.objects.filter(match)
        .select_related("employer_group")
        .only("first_name", "last_name", "email", "date_of_birth", "benefits_account_id", "employer_group__name")
        .order_by("last_name", "first_name", "id")[:limit]
    )


def _employees(query, limit, pks, user) -> list[Hit]:
    if query.digits and not pks:
        return []
    return [
        Hit(
            kind="employees",
            pk=e.pk,
            title=f"{e.last_name}, {e.first_name}",
            url=reverse("admin:hrsync_employee_change", args=[e.pk]),
            details=tuple(
                d for d in (e.employer_group.name, f"born {date_format(e.date_of_birth, 'DATE_FORMAT')}" if e.date_of_birth else "", e.email) if d
            ),
        )
        for e in employee_quick_find(words=() if query.digits else query.words, text=query.text, email=query.email, pks=pks, limit=limit)
    ]


register(Source(kind="employees", title="Employees", model="hrsync.employee", permission="hrsync.view_employee", find=_employees, order=30))
