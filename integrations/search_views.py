"""The quick search in the admin: the results page (Enter without a pick) and the top bar's suggestions (JSON)."""

from django.contrib import admin
from django.http import JsonResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.views.decorators.http import require_GET

from . import search


def hit_json(hit: search.Hit) -> dict:
    return {"kind": hit.kind, "id": hit.pk, "title": hit.title, "url": hit.url, "details": list(hit.details), "matched": hit.matched}


def results_json(found: dict) -> dict:
    return {
        "query": found["query"],
        "count": found["count"],
        "groups": [{"kind": g["kind"], "title": g["title"], "more": g["more"], "results": [hit_json(h) for h in g["hits"]]} for g in found["groups"]],
    }


@require_GET
def results_view(request):
    text = request.GET.get("q", "")
    found = search.search(request.user, text, limit=search.PAGE_LIMIT)
    context = {
        **admin.site.each_context(request),
        "title": f"Search: {found['query']}" if found["query"] else "Search",
        "quick_search_query": found["query"],
        "query": found["query"],
        "groups": found["groups"],
        "count": found["count"],
        "min_length": search.MIN_LENGTH,
        "kinds": [s.title for s in search.sources_for(request.user)],
    }
    return TemplateResponse(request, "admin/search/results.html", context)


@require_GET
def suggest_view(request):
    return JsonResponse(results_json(search.search(request.user, request.GET.get("q", ""))))


urlpatterns = [
    path("", admin.site.admin_view(results_view), name="quick_search"),
    path("suggest/", admin.site.admin_view(suggest_view), name="quick_search_suggest"),
]
