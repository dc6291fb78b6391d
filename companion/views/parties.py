"""Watch parties: make one, see it, join by invitation, leave."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from ..forms import (
    PartyForm,
)
from ..http import (
    AuthenticatedHttpRequest,
    HtmxHttpRequest,
    login_required_htmx,
)
from ..models import (
    PARTY_SIZE_LIMIT,
    Party,
    Show,
)
from ..viewing import (
    Viewing,
)
from .story import story_body


@require_POST
@login_required_htmx
def party_create(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    show = get_object_or_404(Show, slug=slug)
    form = PartyForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the watch party a name of at most 100 characters.")
        return redirect(show.get_absolute_url())
    party = Party.objects.create(show=show, name=form.cleaned_data["name"], created_by=request.user)
    party.members.add(request.user)
    messages.success(request, "Watch party created. Share the invite link with your friends.")
    return redirect(party)


@require_safe
@login_required_htmx
def party_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    # Looked up through the viewer's own parties: someone else's party is a plain 404.
    party = get_object_or_404(request.user.parties.select_related("show"), pk=pk)
    party_point, standing = party.progress()
    # The party reads at its lowest member's point, whatever this viewer's own progress.
    viewing = Viewing.at(party.show, request.user, party_point)
    context = {
        "party": party,
        "show": party.show,
        "viewing": viewing,
        "standing": standing,
        "story_body": story_body(viewing),
        "invite_url": request.build_absolute_uri(reverse("party-join", args=[party.invite_token])),
    }
    return render(request, "companion/party_detail.html", context)


@require_safe
def party_join(request: HtmxHttpRequest, token: str) -> HttpResponse:
    """The invite page: the party's name and show (never anyone's progress), and a way in."""
    party = get_object_or_404(Party.objects.select_related("show"), invite_token=token)
    member = request.user.is_authenticated and party.members.filter(pk=request.user.pk).exists()
    return render(request, "companion/party_join.html", {"party": party, "member": member})


@require_POST
@login_required_htmx
def party_join_confirm(request: AuthenticatedHttpRequest, token: str) -> HttpResponse:
    party = get_object_or_404(Party.objects.select_related("show"), invite_token=token)
    if not party.add_member(request.user):
        messages.error(request, f"This watch party is full ({PARTY_SIZE_LIMIT} members).")
        return redirect("show-list")
    messages.success(request, f"You joined {party.name}.")
    return redirect(party)


@require_POST
@login_required_htmx
def party_leave(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    party = get_object_or_404(request.user.parties, pk=pk)
    party.remove_member(request.user)
    messages.info(request, "You left the watch party.")
    return redirect("show-list")
