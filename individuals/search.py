"""The quick search's individuals and policies (``integrations.search`` finds this module by name)."""

from django.urls import reverse
from django.utils.formats import date_format

from integrations.search import Hit, Source, register

from . import personal_data
from .selectors import individual_quick_find, policy_quick_find


def _individual_details(person) -> tuple[str, ...]:
    """What tells two namesakes apart: date of birth, city, masked SSN (last 4 only)."""
    place = ", ".join(p for p in (person.city, person.state) if p)
    return tuple(
        d
        for d in (
            f"born {date_format(person.date_of_birth, 'DATE_FORMAT')}" if person.date_of_birth else "",
            place,
            f"SSN {personal_data.masked(person, 'ssn')}" if person.ssn_last4 else "",
        )
        if d
    )


def _individuals(query, limit, pks, user) -> list[Hit]:
    return [
        Hit(
            kind="individuals",
            pk=p.pk,
            title=f"{p.last_name}, {p.first_name}" + (f" ({p.nickname})" if p.nickname else ""),
            url=reverse("admin:individuals_individual_change", args=[p.pk]),
            details=_individual_details(p),
        )
        for p in individual_quick_find(words=query.words, digits=query.digits, email=query.email, pks=pks, limit=limit)
    ]


def _policies(query, limit, pks, user) -> list[Hit]:
    """A policy opens its holder's client page (or, for a user without Individuals view, the policy's own)."""
    to_client = user.has_perm("individuals.view_individual")
    return [
        Hit(
            kind="policies",
            pk=p.pk,
            title=f"{p.policy_number or '(no number)'} · {p.get_coverage_type_display()}",
            url=reverse("admin:individuals_individual_change", args=[p.individual_id])
            if to_client
            else reverse("admin:individuals_policy_change", args=[p.pk]),
            details=tuple(
                d
                for d in (
                    f"{p.individual.last_name}, {p.individual.first_name}",
                    p.carrier.name,
                    p.get_status_display(),
                    f"renews {date_format(p.renewal_date, 'DATE_FORMAT')}" if p.renewal_date else "",
                )
                if d
            ),
        )
        for p in policy_quick_find(text=query.text, pks=pks, limit=limit)
    ]


register(
    Source(
        kind="individuals", title="Individuals", model="individuals.individual", permission="individuals.view_individual", find=_individuals, order=10
    )
)
register(Source(kind="policies", title="Policies", model="individuals.policy", permission="individuals.view_policy", find=_policies, order=40))
