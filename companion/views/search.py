"""Search within a show, over what the viewer has unlocked."""

from __future__ import annotations

import hashlib

from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_safe

from ..http import HtmxHttpRequest
from ..lookups import viewing_of
from ..viewing import SEARCH_MIN_LENGTH, Viewing, search_results

FOUND = "companion/search.html#found"


def found_html(viewing: Viewing, query: str) -> SafeString:
    """What a search lists: the same bytes for everyone at this point who asks this, so shared."""

    def context() -> dict:
        return {"query": query, "results": search_results(viewing, query)}

    if len(query) < SEARCH_MIN_LENGTH:
        return mark_safe(render_to_string(FOUND, context()))
    # The list shows the query, what is found at the point and episode titles (which hiding them
    # changes): nothing else of the viewer.
    asked = hashlib.sha256(query.encode()).hexdigest()
    hidden = ":titles-hidden" if viewing.hide_titles else ""
    return viewing.cached_fragment(f"search:{viewing.show.slug}:{asked}{hidden}", FOUND, context)


@require_safe
def search(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    viewing = viewing_of(request, slug)
    query = request.GET.get("q", "").strip()[:100]
    context = {"show": viewing.show, "viewing": viewing, "query": query}
    context["found"] = found_html(viewing, query)
    if request.htmx:
        return render(request, "companion/search.html#results", context)
    return render(request, "companion/search.html", context)
