"""The quick search: one box finds clients of every kind (``/admin/search/``, ``GET /api/search/``).

Each app that owns records people look up declares a ``Source`` in its own ``search.py`` module
(``individuals.search``, ``plans.search``, ``hrsync.search``); this module finds those modules by name
(as the admin finds ``admin.py`` and ``seed_demo`` finds ``demo.py``), so no app imports another to be searched.
What this module adds is the ids of the linked systems: a query that is an AMS customer number, a
benefits-admin account ID or a carrier member id is looked up exactly in the external-id registry
(``integrations.registry.external_id_holders``) and the record it names is found through its owner's
source -- never by matching names across systems.

Queries: one on the registry, then one per kind the user may view (the text match and the records the
registry named, in one query; two for individuals on PostgreSQL, see ``individual_quick_find``). Rights: a kind
is searched only for users with its view permission.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.apps import apps

from .models import ExternalId
from .registry import external_id_holders

MIN_LENGTH = 2
LIMIT = 8  # rows per kind in the top bar
PAGE_LIMIT = 50  # rows per kind on the results page and in the API

# The linked systems' ids a person reads out on the phone: (system, object type) -> what they call it.
LINKED_IDS: dict[tuple[str, str], str] = {
    (ExternalId.System.AMS, "customer"): "AMS customer number",
    (ExternalId.System.AMS, "policy"): "AMS policy id",
    (ExternalId.System.BENEFITS_ADMIN, "account"): "Benefits-admin account ID",
    (ExternalId.System.CARRIER_EXCHANGE, "member"): "Carrier member id",
    (ExternalId.System.BENEFITS_PLATFORM, "employee"): "Benefits platform id",
    (ExternalId.System.CRM, "account"): "CRM account id",
}


@dataclass(frozen=True)
class Hit:
    """One result row: what it is, what tells it apart from a namesake, where it opens."""

    kind: str
    pk: int
    title: str
    url: str
    details: tuple[str, ...] = ()
    matched: str = ""  # why it was found when it is not the name ("AMS customer number 10042")


@dataclass(frozen=True)
class Query:
    text: str
    words: tuple[str, ...]
    digits: str  # the digits of a phone-like query ("(555) 010-2233" -> "5550102233"), else ""
    email: bool


def parse(text: str) -> Query:
    text = "".join(ch for ch in str(text or "") if ch.isprintable() or ch.isspace())  # no NUL or control characters
    text = " ".join(text.split())[:100]
    letters = re.search(r"[^\d\s()+.\-]", text)
    digits = "" if letters else re.sub(r"\D", "", text)
    return Query(text=text, words=tuple(text.split()), digits=digits if len(digits) >= 4 else "", email="@" in text)


@dataclass(frozen=True)
class Source:
    """What an app declares for one kind of record.

    ``find(query, limit, pks, user)``: up to ``limit`` ``Hit`` for the text ``query`` (a ``Query``) plus the
    records whose primary key is in ``pks`` (named by a linked system's id), in ONE query (or a fixed few); ``user`` to choose
    where a row links.
    """

    kind: str  # "individuals"
    title: str  # "Individuals"
    model: str  # "individuals.individual": the records the registry's rows point at
    permission: str
    find: Callable[[Query, int, Iterable[int], object], list[Hit]]
    order: int = 50


_SOURCES: dict[str, Source] = {}
_discovered = False


def register(source: Source) -> Source:
    _SOURCES[source.kind] = source
    return source


def sources_for(user) -> list[Source]:
    """The kinds this user may view, in display order."""
    global _discovered
    if not _discovered:  # our apps' search.py (as seed_demo finds demo.py), never a third-party module
        for config in apps.get_app_configs():
            if "." not in config.name and importlib.util.find_spec(f"{config.name}.search") is not None:
                importlib.import_module(f"{config.name}.search")
        _discovered = True
    return sorted((s for s in _SOURCES.values() if user.has_perm(s.permission)), key=lambda s: (s.order, s.kind))


def search(user, text: str, *, limit: int = LIMIT) -> dict:
    """``{"query", "groups": [{"kind", "title", "hits": [Hit], "more": bool}], "count"}``; only kinds the user may view."""
    query = parse(text)
    sources = sources_for(user)
    if len(query.text) < MIN_LENGTH or not sources:
        return {"query": query.text, "groups": [], "count": 0}
    holders = _linked(query, sources)
    groups = []
    for source in sources:
        pks, matched = holders.get(source.kind, ({}, {}))
        hits = source.find(query, limit + 1, list(pks), user)
        hits = [_with_match(hit, matched.get(hit.pk, "")) for hit in hits]
        hits.sort(key=lambda h: not h.matched)  # the record an exact id names comes first
        if hits:
            groups.append({"kind": source.kind, "title": source.title, "hits": hits[:limit], "more": len(hits) > limit})
    return {"query": query.text, "groups": groups, "count": sum(len(g["hits"]) for g in groups)}


def _with_match(hit: Hit, matched: str) -> Hit:
    if not matched:
        return hit
    return Hit(kind=hit.kind, pk=hit.pk, title=hit.title, url=hit.url, details=hit.details, matched=matched)


def _linked(query: Query, sources: list[Source]) -> dict[str, tuple[dict, dict]]:
    """The records a linked system's id names, per kind: ``{kind: ({pk}, {pk: "AMS customer number 10042"})}``."""
    if " " in query.text or query.email:
        return {}
    by_model = {source.model: source for source in sources}
    found: dict[str, tuple[dict, dict]] = {}
    for row in external_id_holders(external_id=query.text, kinds=list(LINKED_IDS)):
        source = by_model.get(f"{row.content_type.app_label}.{row.content_type.model}")
        if source is None:  # a kind this user may not view, or one nobody searches
            continue
        pk = row.object_id
        pks, matched = found.setdefault(source.kind, ({}, {}))
        pks[pk] = True
        matched[pk] = f"{LINKED_IDS.get((row.system, row.object_type), row.object_type)} {row.external_id}"
    return found
