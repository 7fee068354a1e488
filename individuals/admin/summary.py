"""The client page: an individual's admin page opens on a summary and a timeline; the form is one click away.

A read-only view over selectors (``individuals.selectors``) and the panels other apps register
(``core.related``); the change form stays at ``…/change/?edit=1``.
"""

from django.contrib.admin.options import IS_POPUP_VAR, TO_FIELD_VAR
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode

from core import display

from .. import personal_data
from ..selectors import TIMELINE_KINDS, individual_summary, individual_timeline

EDIT = "edit"  # ?edit=1 on the change URL: the form


def wants_summary(request) -> bool:
    """A plain GET of the change URL shows the summary; the form for ?edit=1, popups and POSTs."""
    return request.method == "GET" and not any(key in request.GET for key in (EDIT, IS_POPUP_VAR, TO_FIELD_VAR))


def edit_url(obj, request=None) -> str:
    params = {EDIT: "1"}
    if request is not None and request.GET.get("_changelist_filters"):
        params["_changelist_filters"] = request.GET["_changelist_filters"]
    return reverse("admin:individuals_individual_change", args=[obj.pk]) + "?" + urlencode(params)


def summary_view(model_admin, request, object_id, story):
    obj = model_admin.get_object(request, object_id)
    if obj is None:
        return model_admin._get_obj_does_not_exist_redirect(request, model_admin.opts, object_id)
    if not model_admin.has_view_or_change_permission(request, obj):
        raise PermissionDenied
    user = request.user
    may_see_policies = user.has_perm("individuals.view_policy")
    summary = individual_summary(individual=obj, policies=may_see_policies)
    kind = request.GET.get("timeline", "")
    kind = kind if kind in TIMELINE_KINDS else ""
    timeline = individual_timeline(individual=obj, policies=summary["policies"])  # without the right: none of theirs
    if not user.has_perm("accounts.view_auditlog"):  # who revealed or searched personal data is for auditors
        timeline = [e for e in timeline if e["kind"] != "personal_data"]
    present = {e["kind"] for e in timeline}
    shown = [e for e in timeline if not kind or e["kind"] == kind]
    base = reverse("admin:individuals_individual_change", args=[obj.pk])
    address = [
        obj.address_line1,
        obj.address_line2,
        " ".join(p for p in (obj.city + ("," if obj.city and obj.state else ""), obj.state, obj.zip_code) if p),
    ]
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "original": obj,
        "title": str(obj),
        "subtitle": None,
        "has_change_permission": model_admin.has_change_permission(request, obj),
        "edit_url": edit_url(obj, request),
        "history_url": reverse("admin:individuals_individual_history", args=[obj.pk]),
        "facts": [
            ("Date of birth", display.text(obj.date_of_birth)),
            ("Record status", obj.get_record_status_display()),
            ("Servicing agent", obj.servicing_agent or "Nobody yet"),
            ("Gender", obj.get_gender_display() or display.EMPTY),
        ],
        "personal_data": [
            {
                "kind": k,
                "label": personal_data.LABELS[k][:1].upper() + personal_data.LABELS[k][1:],
                "masked": personal_data.masked(obj, k),
                "url": reverse("admin:individuals_individual_reveal", args=[obj.pk, k]),
            }
            for k in personal_data.KINDS
            if getattr(obj, f"{k}_last4")
        ],
        "can_reveal": user.has_perm("accounts.view_full_personal_data"),
        "reach": [
            (label, value, href)
            for label, value, href in (
                ("Cell phone", obj.cell_phone, f"tel:{obj.cell_phone}"),
                ("Home phone", obj.home_phone, f"tel:{obj.home_phone}"),
                ("Email", obj.email, f"mailto:{obj.email}"),
                ("Other email", obj.secondary_email, f"mailto:{obj.secondary_email}"),
            )
            if value
        ],
        "address": [line for line in address if line.strip()],
        "custom_values": display.custom_values_html(obj.custom_fields or {}, summary["custom_fields"]) if obj.custom_fields else "",
        "policies": summary["policies"],
        "may_see_policies": may_see_policies,
        "related_panels": story(request, obj),
        "timeline": shown,
        "timeline_kind": kind,
        "timeline_filters": [{"key": "", "label": "Everything", "url": base, "count": len(timeline)}]
        + [
            {"key": k, "label": label, "url": f"{base}?timeline={k}", "count": sum(1 for e in timeline if e["kind"] == k)}
            for k, label in TIMELINE_KINDS.items()
            if k in present
        ],
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, "admin/individuals/individual/summary.html", context)


__all__ = ["EDIT", "edit_url", "summary_view", "wants_summary"]
