"""The *Awaiting a person* inbox in the admin: every open decision, oldest first, whichever app left it."""

from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import path

from . import decisions


def awaiting_view(request):
    key = request.GET.get("kind", "")
    sources = decisions.sources_for(request.user)
    counts = [{"source": source, "count": source.count()} for source in sources]
    context = {
        **admin.site.each_context(request),
        "title": "Awaiting a person",
        "counts": counts,
        "kind": key,
        "rows": decisions.decisions_for(request.user, key=key),
        "total": sum(item["count"] for item in counts if key in ("", item["source"].key)),
    }
    return TemplateResponse(request, "admin/integrations/awaiting.html", context)


urlpatterns = [path("", admin.site.admin_view(awaiting_view), name="awaiting")]
