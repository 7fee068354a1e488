"""The employer group's page: it opens on a summary (company, contacts, plans, plan sync state, employees,
carrier connections, discrepancies, linked systems) and a timeline; the form is one click away (``?edit=1``).

A read-only view over selectors (``plans.selectors``), the panels other apps register (``core.related``:
employees, connections, discrepancies) and the timeline's sources (``core.timeline``).
"""

from django.contrib.admin.options import IS_POPUP_VAR, TO_FIELD_VAR
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode

from core import display, related, timeline

from .selectors import employer_group_provenance, employer_group_summary

EDIT = "edit"


def wants_summary(request) -> bool:
    return request.method == "GET" and not any(key in request.GET for key in (EDIT, IS_POPUP_VAR, TO_FIELD_VAR))


def edit_url(group) -> str:
    return reverse("admin:plans_employergroup_change", args=[group.pk]) + "?" + urlencode({EDIT: "1"})


def summary_view(model_admin, request, object_id):
    group = model_admin.get_object(request, object_id)
    if group is None:
        return model_admin._get_obj_does_not_exist_redirect(request, model_admin.opts, object_id)
    if not model_admin.has_view_or_change_permission(request, group):
        raise PermissionDenied
    user = request.user
    summary = employer_group_summary(group=group)
    origins = employer_group_provenance(group=group)
    base = reverse("admin:plans_employergroup_change", args=[group.pk])

    def value(name, label, shown):
        return {"name": name, "label": label, "value": shown, **timeline.provenance(origins.get(name))}

    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "original": group,
        "title": str(group),
        "subtitle": None,
        "has_change_permission": model_admin.has_change_permission(request, group),
        "edit_url": edit_url(group),
        "history_url": reverse("admin:plans_employergroup_history", args=[group.pk]),
        "name_origin": timeline.provenance(origins.get("name")),
        "facts": [
            value("account_number", "Account number", group.account_number),
            value("account_type", "Account type", group.get_account_type_display()),
            value("status", "Status", group.get_status_display()),
            value("dba", "DBA", group.dba or display.EMPTY),
            value("federal_ein", "Federal EIN", group.federal_ein or display.EMPTY),
            value("sic_code", "SIC code", group.sic_code or display.EMPTY),
            value("employee_count", "Employees", display.text(group.employee_count)),
            value("renewal_month", "Renewal month", group.get_renewal_month_display() or display.EMPTY),
            value("office", "Office", group.office or display.EMPTY),
        ],
        "servicing_users": ", ".join(timeline.person_name(u) for u in summary["servicing_users"]) or "Nobody yet",
        "addresses": summary["addresses"],
        "contacts": summary["contacts"],
        "plans": summary["plans"],
        "plan_sync": summary["plan_sync"],
        "may_add_plan": user.has_perm("plans.add_plan"),
        "may_connect": user.has_perm("carriers.add_carrierconnection"),
        "related_panels": related.panels_for(request, group),
        **timeline.summary_context(request, group, base=base, anchor="group-timeline", read=timeline.read),
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, "admin/plans/employergroup/summary.html", context)
