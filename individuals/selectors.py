"""Reads for individuals: the advanced search through the shared FilterSet (``filters.criteria``)."""

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from accounts.models import User

from .filters import IndividualFilterSet, criteria_authorize, criteria_filterset
from .models import CustomField, Individual, Policy


def individual_list(*, filters=None, user: User | None = None, queryset: QuerySet | None = None, request=None, how: str = "search") -> QuerySet:
    """Individuals matching the advanced-search ``filters`` (a dict or QueryDict), agent joined.

    Raises ``ValidationError`` keyed by criterion for invalid criteria (``criteria_filterset``'s rules:
    unknown keys and bad values are refused, never dropped). ``user`` is checked for the Individuals
    view right (``PermissionDenied`` otherwise) and, for a search by SSN / MBI / driver's license, the
    right, throttle and audit of ``criteria_authorize`` (``how`` says where, for the audit log).
    """
    return individual_search(filters=filters, user=user, queryset=queryset, request=request, how=how).qs


def individual_search(
    *, filters=None, user: User | None = None, queryset: QuerySet | None = None, request=None, how: str = "search"
) -> IndividualFilterSet:
    """``individual_list``'s checks, and the valid FilterSet (its ``.qs`` is the result) rather than its queryset."""
    if user is not None and not user.has_perm("individuals.view_individual"):
        raise PermissionDenied
    base = queryset if queryset is not None else Individual.objects.select_related("servicing_agent")
    filterset = criteria_filterset({} if filters is None else filters, queryset=base, request=request)
    if user is not None:
        criteria_authorize(actor=user, data=filters or {}, how=how)
    return filterset


# --- the quick search (integrations.search) and the client page ----------------------------------------
PHONE_PUNCTUATION = ("(", ")", "-", " ", ".", "+")


def _digits(column: str):
    """``column`` without phone punctuation, in SQL (portable: nested REPLACE, no regexp)."""
    from django.db.models import F, Value
    from django.db.models.functions import Replace

    expression = F(column)
    for char in PHONE_PUNCTUATION:
        expression = Replace(expression, Value(char), Value(""))
    return expression


QUICK_FIND_FIELDS = (
    "first_name",
    "last_name",
    "nickname",
    "date_of_birth",
    "city",
    "state",
    "address_line1",
    "email",
    "cell_phone",
    "home_phone",
    "record_status",
    "ssn_last4",
)
PREFIX_FIELDS = ("last_name", "first_name", "nickname", "city")  # a word matches their start; the street: anywhere


def individual_quick_find(*, words: tuple[str, ...] = (), digits: str = "", email: bool = False, pks=(), limit: int = 8) -> list[Individual]:
    """Individuals for the quick search, personal-data secrets left in the database; ONE query (two on
    PostgreSQL for one word of 3 letters or more).

    Each word matches the start of the first, last or nick name or the city, or appears in the street
    address ("anderson elm"); a query of digits matches the cell or home phone, however it was typed; an
    email matches the primary or secondary email. ``pks``: records a linked system's id named (always in).
    Display order: last name, first name, id. On PostgreSQL every branch has an index (migrations 0002, 0005,
    0011, 0012), so the matches are found through them and sorted. With a word of 3 letters or more the sort is
    by ``last_name || ''``, which no index delivers: the planner would otherwise walk the name index in display
    order and filter, which reads every individual before "Robinson" (2.9 s at 1M) or all of them when nothing
    matches; only words of 1-2 letters (which the street's trigram index cannot serve) keep that walk, which
    stops at ``limit`` early for a common short prefix (docs/benchmarks.md). One word of 3 letters or more on
    PostgreSQL reads the first page without reading every match (``_one_word_first_page``); SQLite, whose
    compound statements take no LIMIT per part, and several words read every match and sort them.
    """
    from django.db import connection
    from django.db.models import F, Q, Value
    from django.db.models.functions import Concat

    through_indexes = words and not digits and not email and max(len(w) for w in words) >= 3
    if through_indexes and len(words) == 1 and connection.vendor == "postgresql":
        return _one_word_first_page(words[0], pks=pks, limit=limit)
    match = Q()
    if digits:
        match = Q(cell_digits__contains=digits) | Q(home_digits__contains=digits)
    elif email:
        text = " ".join(words)
        match = Q(email__istartswith=text) | Q(secondary_email__istartswith=text)
    elif words:
        match = Q()
        for word in words:
            match &= _word_match(word)
    else:
        match = Q(pk__in=[])
    if pks:
        match |= Q(pk__in=list(pks))
    qs = Individual.objects.all()
    surname_order = Concat(F("last_name"), Value("")) if through_indexes else F("last_name")
    if digits:
        qs = qs.alias(cell_digits=_digits("cell_phone"), home_digits=_digits("home_phone"))
    return list(qs.filter(match).only(*QUICK_FIND_FIELDS).order_by(surname_order, "first_name", "id")[:limit])


def _word_match(word: str):
    from django.db.models import Q

    return _prefix_match(word) | Q(address_line1__icontains=word)


def _prefix_match(word: str):
    from django.db.models import Q

    match = Q()
    for field in PREFIX_FIELDS:
        match |= Q(**{f"{field}__istartswith": word})
    return match


def _one_word_first_page(word: str, *, pks, limit: int) -> list[Individual]:
    """``individual_quick_find`` for one word of 3 letters or more on PostgreSQL: the same rows in the same
    order without reading every match ("Thom" matches ~92,000 of 1M individuals). Two queries.

    The first page of all matches is within the first pages of each branch. 1) The first page of the prefix
    branches (last, first, nick name, city), each read from its index alone (0012: the display key is in it,
    no table row read) and merged. 2) The individuals on it, and the street matches up to its last display key
    (``bound``: no street match after it can be on the page), which PostgreSQL finds by ANDing the street's
    trigram index with the name index's range up to ``bound`` when that range is small (the bound is a
    constant, so the planner knows); with fewer than ``limit`` prefix matches there is no bound.
    """
    from django.db import connection
    from django.db.models import BooleanField, F, Q, Value
    from django.db.models.expressions import RawSQL
    from django.db.models.functions import Concat

    order = (Concat(F("last_name"), Value("")), "first_name", "id")  # sorted, never a walk of the name index
    key = ("last_name", "first_name", "id")
    branches = [Individual.objects.filter(**{f"{f}__istartswith": word}).order_by(*order).values_list(*key)[:limit] for f in PREFIX_FIELDS]
    prefixed = list(branches[0].union(*branches[1:]).order_by(*key)[:limit])
    street = Q(address_line1__icontains=word)
    if len(prefixed) == limit:
        row = ", ".join(f"{connection.ops.quote_name(Individual._meta.db_table)}.{connection.ops.quote_name(k)}" for k in key)
        street &= Q(RawSQL(f"({row}) <= (%s, %s, %s)", prefixed[-1], output_field=BooleanField()))  # noqa: S611 - fixed names, bound as parameters
    match = (Q(pk__in=[r[2] for r in prefixed]) & _prefix_match(word)) | street  # still matching: an edit may land between the two reads
    if pks:
        match |= Q(pk__in=list(pks))
    return list(Individual.objects.filter(match).only(*QUICK_FIND_FIELDS).order_by(*order)[:limit])


def policy_quick_find(*, text: str, pks=(), limit: int = 8) -> list:
    """Policies whose number starts with ``text`` (case-insensitive: on PostgreSQL by an index on its upper case,
    migration 0010), holder and carrier joined; ONE query."""
    from django.db.models import Q

    match = Q(policy_number__istartswith=text) if len(text) >= 3 and " " not in text else Q(pk__in=[])
    if pks:
        match |= Q(pk__in=list(pks))
    return list(
        Policy.objects.filter(match)
        .select_related("individual", "carrier")
        .only(
            "policy_number",
            "coverage_type",
            "status",
            "renewal_date",
            "individual__first_name",
            "individual__last_name",
            "individual__date_of_birth",
            "individual__city",
            "carrier__name",
        )
        .order_by("policy_number", "id")[:limit]
    )


def individual_summary(*, individual: Individual, policies: bool = True) -> dict:
    """What the client page shows above the story: policies (carrier joined; ``policies=False``: none, for a
    user without the Policies right), custom field definitions used.

    Two queries at most. The panels other apps register (sales records, activities) come from ``core.related``.
    """
    policies = list(individual.policies.select_related("carrier").order_by("status", "renewal_date", "id")) if policies else []
    keys = list((individual.custom_fields or {}).keys())
    fields = {f.key: f for f in CustomField.objects.filter(key__in=keys)} if keys else {}
    return {"policies": policies, "custom_fields": fields}


def individual_timeline(*, individual: Individual, user, kind: str = "", before=None, limit: int = 50) -> dict:
    """What happened to the client as ``user`` may see it, newest first: edits (old -> new, by whom or which
    system), syncs, AMS notifications, sales activity, exports that included them; one ``kind`` or all.

    ``{"entries": [core.timeline.Entry], "counts": {kind: n}, "more": bool}``; the sources are this app's
    (``individuals.timeline``) and those the apps working on individuals register (``core.timeline``).
    A fixed number of queries per source, whatever the number of entries.
    """
    from core import timeline

    return timeline.read(individual, user=user, kind=kind if kind in timeline.KINDS else "", before=before, limit=limit)


def individual_matches(*, individual: Individual, stored: list[tuple[dict, int | None]]) -> list[bool]:
    """For each stored search ``(criteria, criteria_version)``, whether it finds ``individual`` now.

    A fixed number of queries however many searches: custom field definitions and the agents and carriers
    the criteria name (each at most once), then ONE statement with an EXISTS per search. Criteria that no
    longer read (a removed custom field, a deleted carrier) find nobody.
    """
    from django.core.exceptions import ValidationError
    from django.db.models import Exists, OuterRef

    from accounts.models import Agent
    from plans.models import Carrier

    from .filters import criteria_filterset, criteria_load
    from .filters.fields import preloaded_choices

    loaded: list[dict | None] = []
    for criteria, version in stored:
        try:
            loaded.append(criteria_load(criteria, version))
        except ValidationError:
            loaded.append(None)
    present = [c for c in loaded if c is not None]
    if not present:
        return [False] * len(stored)
    needs_defs = any(str(k).startswith("cf_") for c in present for k in c)
    defs = list(CustomField.objects.filter(active=True)) if needs_defs else []

    def ids(key) -> set[int]:
        found = set()
        for c in present:
            values = c.get(key) or []
            for v in values if isinstance(values, list | tuple) else [values]:
                found.update(int(p) for p in str(v).split(",") if p.strip().isdigit())
        return found

    agents, carriers = ids("servicing_agent"), ids("carrier")
    choices = {
        Agent: Agent.objects.in_bulk(list(agents)) if agents else {},
        Carrier: Carrier.objects.in_bulk(list(carriers)) if carriers else {},
    }
    probes = {}
    with preloaded_choices(choices):
        for i, criteria in enumerate(loaded):
            if criteria is None:
                continue
            try:
                qs = criteria_filterset(criteria, queryset=Individual.objects.all(), custom_fields=defs).qs
            except ValidationError:
                continue
            probes[f"m{i}"] = Exists(qs.order_by().filter(pk=OuterRef("pk")))
    if not probes:
        return [False] * len(stored)
    row = Individual.objects.filter(pk=individual.pk).annotate(**probes).values(*probes).first() or {}
    return [bool(row.get(f"m{i}")) for i in range(len(stored))]


def individual_provenance(*, individual: Individual) -> dict[str, dict]:
    """Where each value of the client came from: ``{field: {"at", "by", "source", "system", "owner"}}``, the
    last change of each field in the audit log (``source``: person, job, sync, system; a value never changed
    since the record was created names its creation), and ``owner``: the outside system that owns the field
    now (``integrations.ownership``), if any. Two queries."""
    from core.timeline import value_origins
    from integrations.ownership import owned_fields

    return value_origins(individual, owners=owned_fields(individual))
