"""Search within a show, over what the viewer has unlocked."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from ..http import HtmxHttpRequest
from ..lookups import viewing_of
from ..viewing import search_results


@require_safe
def search(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    viewing = viewing_of(request, slug)
    query = request.GET.get("q", "").strip()[:100]
    results = search_results(viewing, query)
    context = {"show": viewing.show, "viewing": viewing, "query": query, "results": results}
    if request.htmx:
        return render(request, "companion/search.html#results", context)
    return render(request, "companion/search.html", context)
