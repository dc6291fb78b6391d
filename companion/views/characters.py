"""Who's who and each character's timeline."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from ..http import HtmxHttpRequest
from ..lookups import viewing_of, visible_or_404
from ..models import Character, CharacterState


@require_safe
def cast(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    viewing = viewing_of(request, slug)
    show = viewing.show
    cast_list = viewing.cached_fragment(
        "cast",
        "companion/cast.html#cast-list",
        lambda: {
            "characters": Character.objects.with_states_at(viewing.safe_point),
            "point": viewing.safe_point,
        },
    )
    return render(
        request, "companion/cast.html", {"show": show, "viewing": viewing, "cast_list": cast_list}
    )


@require_safe
def character_detail(request: HtmxHttpRequest, slug: str, character_slug: str) -> HttpResponse:
    viewing = viewing_of(request, slug)
    show = viewing.show
    character = visible_or_404(
        Character.objects.visible_at(viewing.safe_point).select_related("first_appearance__show"),
        slug=character_slug,
    )
    timeline = viewing.cached_fragment(
        f"character:{character.pk}",
        "companion/character_detail.html#timeline",
        lambda: {
            "states": CharacterState.objects.visible_at(viewing.safe_point)
            .filter(character=character)
            .select_related("reveal_at", "character__show")
        },
    )
    context = {"show": show, "viewing": viewing, "character": character, "timeline": timeline}
    return render(request, "companion/character_detail.html", context)
