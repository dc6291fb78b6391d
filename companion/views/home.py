"""The home page (a viewer's followed shows) and Browse (the whole catalogue)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from ..forms import BrowseForm
from ..http import HtmxHttpRequest
from ..models import Follow, Party, Show
from ..viewing import show_cards


@require_safe
def home(request: HtmxHttpRequest) -> HttpResponse:
    """A viewer's followed shows with what is up next; for a visitor, what Spoilerfree is."""
    if not request.user.is_authenticated:
        return render(request, "companion/welcome.html")
    cards = show_cards(request, Follow.objects.shows_listed_for(request.user))
    parties = Party.objects.of_member_everywhere(request.user)
    return render(request, "companion/home.html", {"cards": cards, "parties": parties})


@require_safe
def browse(request: HtmxHttpRequest) -> HttpResponse:
    """Every show in the catalogue, or those whose title matches the search."""
    form = BrowseForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    shows = Show.objects.all()
    if query:
        shows = shows.filter(title__icontains=query)
    followed = set()
    if request.user.is_authenticated:
        followed = set(request.user.follows.values_list("show_id", flat=True))
    context = {
        "form": form,
        "query": query,
        "cards": show_cards(request, list(shows), up_next=False),
        "followed": followed,
    }
    if request.htmx:
        return render(request, "companion/browse.html#results", context)
    return render(request, "companion/browse.html", context)
