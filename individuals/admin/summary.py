"""The client page: an individual's admin page opens on a summary and a timeline; the form is one click away.

A read-only view over selectors (``individuals.selectors``) and the panels other apps register
(``core.related``); the change form stays at ``…/change/?edit=1``.
"""

from django.contrib.admin.options import IS_POPUP_VAR, TO_FIELD_VAR
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode

from core import display, timeline

from .. import personal_data
from ..selectors import individual_provenance, individual_summary, individual_timeline

EDIT = "edit"  # ?edit=1 on the change URL: the form


def wants_summary(request) -> bool:
    """A plain GET of the change URL shows the summary; the form for ?edit=1, popups and POSTs."""
    return request.method == "GET" and not any(key in request.GET for key in (EDIT, IS_POPUP_VAR, TO_FIELD_VAR))


def edit_url(obj, request=None) -> str:
    params = {EDIT: "1"}
    if request is not None and request.GET.get("_changelist_filters"):
        params["_changelist_filters"] = request.GET["_changelist_filters"]
    return reverse("admin:individuals_individual_change", args=[obj.pk]) + "?" + urlencode(params)


def _latest(origin: dict):
    """Orders origins by their last change (those never changed first)."""
    return (origin.get("at") is not None, origin.get("at") or 0)


def summary_view(model_admin, request, object_id, story):
    obj = model_admin.get_object(request, object_id)
    if obj is None:
        return model_admin._get_obj_does_not_exist_redirect(request, model_admin.opts, object_id)
    if not model_admin.has_view_or_change_permission(request, obj):
        raise PermissionDenied
    user = request.user
    may_see_policies = user.has_perm("individuals.view_policy")
    summary = individual_summary(individual=obj, policies=may_see_policies)
    origins = individual_provenance(individual=obj)

    def value(name, label, shown, href=""):
        return {"name": name, "label": label, "value": shown, "href": href, **timeline.provenance(origins.get(name))}

    base = reverse("admin:individuals_individual_change", args=[obj.pk])
    address = [
        obj.address_line1,
        obj.address_line2,
        " ".join(p for p in (obj.city + ("," if obj.city and obj.state else ""), obj.state, obj.zip_code) if p),
    ]
    # The address is one value: its last change is the latest of its lines'.
    parts = [origins[n] for n in ("address_line1", "address_line2", "city", "state", "zip_code") if n in origins]
    address_origin = max(parts, key=_latest, default=None)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "original": obj,
        "title": str(obj),
        "subtitle": None,
        "has_change_permission": model_admin.has_change_permission(request, obj),
        "edit_url": edit_url(obj, request),
        "history_url": reverse("admin:individuals_individual_history", args=[obj.pk]),
        "name_origin": timeline.provenance(
            max((origins[n] for n in ("first_name", "last_name", "middle_name") if n in origins), key=_latest, default=None)
        ),
        "facts": [
            value("date_of_birth", "Date of birth", display.text(obj.date_of_birth)),
            value("record_status", "Record status", obj.get_record_status_display()),
            value("servicing_agent", "Servicing agent", obj.servicing_agent or "Nobody yet"),
            value("gender", "Gender", obj.get_gender_display() or display.EMPTY),
        ],
        "personal_data": [
            {
                "kind": k,
                "label": personal_data.LABELS[k][:1].upper() + personal_data.LABELS[k][1:],
                "masked": personal_data.masked(obj, k),
                "url": reverse("admin:individuals_individual_reveal", args=[obj.pk, k]),
                **timeline.provenance(origins.get(k)),
            }
            for k in personal_data.KINDS
            if getattr(obj, f"{k}_last4")
        ],
        "can_reveal": user.has_perm("accounts.view_full_personal_data"),
        "reach": [
            value(name, label, shown, href)
            for name, label, shown, href in (
                ("cell_phone", "Cell phone", obj.cell_phone, f"tel:{obj.cell_phone}"),
                ("home_phone", "Home phone", obj.home_phone, f"tel:{obj.home_phone}"),
                ("email", "Email", obj.email, f"mailto:{obj.email}"),
                ("secondary_email", "Other email", obj.secondary_email, f"mailto:{obj.secondary_email}"),
            )
            if shown
        ],
        "address": [line for line in address if line.strip()],
        "address_origin": timeline.provenance(address_origin),
        "custom_values": display.custom_values_html(obj.custom_fields or {}, summary["custom_fields"]) if obj.custom_fields else "",
        "policies": summary["policies"],
        "may_see_policies": may_see_policies,
        "related_panels": story(request, obj),
        **timeline.summary_context(
            request, obj, base=base, anchor="client-timeline", read=lambda obj, **page: individual_timeline(individual=obj, **page)
        ),
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, "admin/individuals/individual/summary.html", context)


__all__ = ["EDIT", "edit_url", "summary_view", "wants_summary"]
