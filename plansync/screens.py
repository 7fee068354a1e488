"""What the plan-sync admin pages show: people by name, plans with their years and lines, the *Pair with*
offers (same line of coverage, overlapping plan years first), the choices a person made kept across a
*Preview*, groups told apart by account number and city, and outside failures in words (never where)."""

import datetime
import re
from dataclasses import dataclass, field

from core.display import EMPTY, date_text
from integrations.http import IntegrationError, TransientError
from plans.models import EmployerGroup, Plan

from .mapping import PRODUCT_TYPE_TO_LINE, benefit_lines, display
from .models import PlanChoice, RemotePlan, Side

CATEGORIES = [("details", "Details"), ("benefits", "Benefits"), ("rates", "Rates")]
# The choice for one of our plans, worded from where the person stands (the row is our plan).
LOCAL_CHOICES = [
    (PlanChoice.Choice.LINK, "Link with the plan in Pair with"),
    (PlanChoice.Choice.CREATE_THERE, "Create it in the benefits-admin system"),
    (PlanChoice.Choice.DONT_SYNC, "Don't sync"),
]
REMOTE_CHOICES = [
    (PlanChoice.Choice.CREATE_THERE, "Create it in AgencyDesk"),
    (PlanChoice.Choice.DONT_SYNC, "Don't sync"),
]
SIDE_SHORT = {Side.AGENCYDESK: "AgencyDesk", Side.BENEFITS_ADMIN: "Benefits-admin"}
_URL = re.compile(r"\b(?:https?|htp|ftp)://\S+|\b(?:localhost|127\.0\.0\.1|\d{1,3}(?:\.\d{1,3}){3})(?::\d+)?\S*")


def person(user) -> str:
    """A user as people know them: the full name, the login only when there is no name."""
    if user is None:
        return EMPTY
    return user.get_full_name() or user.username


def without_addresses(message: str) -> str:
    """A message for staff with any internal address taken out (addresses belong in the log)."""
    return re.sub(r"\s{2,}", " ", _URL.sub("the benefits-admin system", message)).strip()


def refresh_failure(exc: IntegrationError) -> str:
    """Why the list of accounts could not be refreshed, in words, with what to do."""
    if isinstance(exc, TransientError):
        return (
            "The benefits-admin system did not answer, so the list was not refreshed; "
            "the accounts below are from the last refresh. Try again in a few minutes."
        )
    return f"The benefits-admin system refused the refresh: {without_addresses(exc.message)}"


def plan_years(start, end) -> str:
    return f"{date_text(start)} – {date_text(end)}"


def group_label(group: EmployerGroup) -> str:
    """ "Blue Ridge Dental Group (EG-1005, Raleigh)": two groups of one name told apart."""
    cities = sorted({a.city for a in group.addresses.all() if a.city})
    where = f", {cities[0]}" if cities else ""
    return f"{group.name} ({group.account_number}{where})"


def link_targets():
    """The groups an account may be linked to (none linked yet), each labelled so namesakes differ."""
    groups = EmployerGroup.objects.filter(benefits_admin_link__isnull=True).prefetch_related("addresses").order_by("name", "account_number")
    return [(g.pk, group_label(g), g.name) for g in groups]


def _name_key(name: str) -> tuple[str, ...]:
    return tuple(re.findall(r"[a-z0-9]+", name.lower())[:2])


def link_offers(account_name: str, targets: list) -> list[tuple[str, list[tuple[int, str]]]]:
    """The *Link to* choices for one account, as option groups: groups whose name starts like the
    account's first (the likely match), then every other group."""
    key = _name_key(account_name)
    alike = [(pk, label) for pk, label, name in targets if key and _name_key(name) == key]
    rest = [(pk, label) for pk, label, name in targets if not (key and _name_key(name) == key)]
    return [(title, options) for title, options in (("Same name", alike), ("Other employer groups", rest)) if options]


def _remote_dates(rp: RemotePlan) -> tuple[datetime.date | None, datetime.date | None]:
    def parse(value):
        try:
            return datetime.date.fromisoformat(str(value)[:10]) if value else None
        except ValueError:
            return None

    return parse(rp.data.get("effectiveAsOf")), parse(rp.data.get("renewalOn"))


def remote_line(rp: RemotePlan) -> str:
    return PRODUCT_TYPE_TO_LINE.get(rp.data.get("productTypeID"), "")


def remote_label(rp: RemotePlan) -> str:
    start, end = _remote_dates(rp)
    return f"{rp.data.get('name') or rp.product_id} · {plan_years(start, end)} · {display('productStatus', rp.data.get('productStatus'))}"


def overlaps(plan: Plan, rp: RemotePlan) -> bool:
    start, end = _remote_dates(rp)
    return bool(start and end and start < plan.renewal_date and end > plan.effective_date)


def pair_offers(plan: Plan, remote: list[tuple[RemotePlan, PlanChoice | None]]) -> list[tuple[str, list[tuple[int, str]]]]:
    """The plans there one of ours may be paired with, as option groups: same line of coverage and an
    overlapping plan year first, then the same line in other years (a renewal, a late entry). Another line
    (dental for a medical plan) is never offered: linking them would overwrite one with the other."""
    same_year, other_years = [], []
    for rp, choice in remote:
        if remote_line(rp) != plan.line_of_coverage:
            continue
        label = remote_label(rp)
        if choice and choice.plan_id and choice.plan_id != plan.pk and choice.state != PlanChoice.State.ENDED:
            label += f" (paired with {choice.plan})"
        (same_year if overlaps(plan, rp) else other_years).append((rp, label))

    def newest_first(pairs):
        return [(rp.product_id, label) for rp, label in sorted(pairs, key=lambda p: _remote_dates(p[0])[0] or datetime.date.min, reverse=True)]

    line = plan.get_line_of_coverage_display()
    groups = [(f"{line}, overlapping plan year", newest_first(same_year)), (f"{line}, other plan years", newest_first(other_years))]
    return [(title, options) for title, options in groups if options]


@dataclass
class LocalRow:
    plan: Plan
    choice: PlanChoice | None
    picked: str = ""
    pair: str = ""
    truths: list = field(default_factory=list)  # (category, label, value chosen)
    offers: list = field(default_factory=list)


@dataclass
class RemoteRow:
    plan: RemotePlan
    choice: PlanChoice | None
    line: str = ""
    years: str = ""
    status: str = ""
    picked: str = ""


def choose_rows(sides: dict, posted) -> tuple[list[LocalRow], list[RemoteRow]]:
    """Both tables of the choose page, with what the person picked (from ``posted``, kept across a
    *Preview*) or, for a plan already chosen, its sources of truth and pairing as saved."""
    local = []
    for plan, choice in sides["local"]:
        truths = []
        for category, label in CATEGORIES:
            saved = getattr(choice, f"truth_{category}", "") if choice else ""
            truths.append((category, label, posted.get(f"truth-{category}-plan-{plan.pk}") or saved or Side.BENEFITS_ADMIN))
        pair = posted.get(f"pair-plan-{plan.pk}") or (str(choice.product_id) if choice and choice.product_id else "")
        picked = posted.get(f"choice-plan-{plan.pk}", "")
        local.append(LocalRow(plan=plan, choice=choice, picked=picked, pair=pair, truths=truths, offers=pair_offers(plan, sides["remote"])))
    remote = []
    for rp, choice in sides["remote"]:
        line = remote_line(rp)
        start, end = _remote_dates(rp)
        remote.append(
            RemoteRow(
                plan=rp,
                choice=choice,
                line=Plan.Line(line).label if line else display("productTypeID", rp.data.get("productTypeID")),
                years=plan_years(start, end),
                status=display("productStatus", rp.data.get("productStatus")),
                picked=posted.get(f"choice-product-{rp.product_id}", ""),
            )
        )
    return local, remote


def conflict_value(field: str, value, other) -> str:
    """One side of a conflict as people read it. For the benefits, only the benefits the two sides hold
    differently ("Copay: Primary care visit: $30.00"), not the whole set twice."""
    if field != "benefitSummary" or not isinstance(value, dict) or not isinstance(other, dict):
        return display(field, value)
    mine, theirs = benefit_lines(value), benefit_lines(other)
    keys = [k for k in dict.fromkeys([*mine, *theirs]) if mine.get(k, ("", EMPTY))[1] != theirs.get(k, ("", EMPTY))[1]]
    differing = [mine.get(k) or (theirs[k][0], EMPTY) for k in keys]
    return "; ".join(f"{label}: {shown}" for label, shown in differing) or display(field, value)
