"""The quick search's employer groups (``integrations.search`` finds this module by name; plans imports no other app)."""

from django.db.models import OuterRef, Q, Subquery
from django.urls import reverse

from integrations.search import Hit, Source, register

from .models import EmployerGroup, EmployerGroupAddress


def employer_group_quick_find(*, words: tuple[str, ...], text: str, pks=(), limit: int = 8) -> list[EmployerGroup]:
    """Groups whose name or DBA holds every word (at a word's start) or whose account number starts with the
    query, plus ``pks`` (named by a linked system's id); the first address's city joined in: ONE query."""
    match = Q(pk__in=[])
    if words:
        by_name = Q()
        for word in words:
            by_name &= Q(name__istartswith=word) | Q(name__icontains=f" {word}") | Q(dba__istartswith=word)
        match = by_name | Q(account_number__istartswith=text)
    if pks:
        match |= Q(pk__in=list(pks))
    city = EmployerGroupAddress.objects.filter(group=OuterRef("pk")).order_by("id")
    return list(
        EmployerGroup.objects.filter(match)
        .annotate(first_city=Subquery(city.values("city")[:1]), first_state=Subquery(city.values("state")[:1]))
        .only("name", "dba", "account_number", "status")
        .order_by("name", "id")[:limit]
    )


def _groups(query, limit, pks, user) -> list[Hit]:
    words = () if query.email else query.words  # an email names a person, not a group
    groups = employer_group_quick_find(words=words, text=query.text, pks=pks, limit=limit)
    return [
        Hit(
            kind="groups",
            pk=g.pk,
            title=g.name,
            url=reverse("admin:plans_employergroup_change", args=[g.pk]),
            details=tuple(
                d
                for d in (
                    f"account {g.account_number}",
                    f"DBA {g.dba}" if g.dba else "",
                    ", ".join(p for p in (g.first_city, g.first_state) if p),
                    g.get_status_display(),
                )
                if d
            ),
        )
        for g in groups
    ]


register(Source(kind="groups", title="Employer groups", model="plans.employergroup", permission="plans.view_employergroup", find=_groups, order=20))
