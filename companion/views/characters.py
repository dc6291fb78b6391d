"""Who's who and each character's timeline."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.views.decorators.http import require_safe

from ..http import HtmxHttpRequest
from ..lookups import character_or_404, viewing_of
from ..models import Character, CharacterState, Episode, Show
from ..renders import render_each
from ..sql import CastCard
from .shows import render_at_point

# Who's who lists this many at a time: a long show's cast is a few pages, never one long one.
CAST_PAGE_SIZE = 30


def card_character(show: Show, card: CastCard) -> Character:
    """The character of a Who's who card, and their newest state, as _state.html reads it: made
    only for a card not rendered yet."""
    character = Character(
        pk=card.id, show=show, slug=card.slug, name=card.name, actor=card.actor, photo=card.photo
    )
    character.latest_states = []
    if (shown := card.state) is not None:
        reveal = Episode(show=show, season_number=shown.season_number, number=shown.number)
        state = CharacterState(
            pk=shown.id,
            public_id=shown.public_id,
            character=character,
            reveal_at=reveal,
            status=shown.status,
            location=shown.location,
            affiliation=shown.affiliation,
            description=shown.description,
        )
        character.latest_states = [state]
    return character


def page_asked(asked: str | None) -> str:
    """The page of Who's who the query asks for, as Paginator.get_page reads it: a number from 1
    (past the last, the last), "last" for one below 1, and the first for anything else."""
    try:
        number = int(asked or "")
    except ValueError:
        return "1"
    return str(number) if number >= 1 else "last"


@require_safe
def cast(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    viewing = viewing_of(request, slug)
    show, point = viewing.show, viewing.safe_point
    asked = request.GET.get("page")

    def cast_page() -> dict:
        # Counted among the characters visible at the point only: the pages tell nothing of the
        # rest.
        # Paged over their count alone: the page's own rows come from cards_at.
        counted = range(Character.objects.count_at(point))
        page = Paginator(counted, CAST_PAGE_SIZE).get_page(asked)
        found = Character.objects.cards_at(
            point, start=(page.number - 1) * CAST_PAGE_SIZE, count=CAST_PAGE_SIZE
        )
        # A card shows its row and the show's slug (its links), nothing else: it reads the same
        # from the character's newest state's reveal to the next, at every point between.
        cards = render_each(
            "companion/cast.html#cast-card",
            found,
            lambda card: (show.slug, *card),
            lambda card: {"character": card_character(show, card)},
        )
        return {"show": viewing.show, "viewing": viewing, "page": page, "cards": cards}

    def context() -> dict:
        # The list is shared by everyone at the point (whoever is asking), and counted only when
        # it is rendered; a point nobody has visited yet still finds most of its cards rendered,
        # as each card reads the same from one reveal to the next.
        cast_list = viewing.cached_fragment(
            f"cast-page-{page_asked(asked)}", "companion/cast.html#cast-list", cast_page
        )
        return {"show": viewing.show, "viewing": viewing, "cast_list": cast_list}

    return render_at_point(request, viewing, "companion/cast.html", context, (page_asked(asked),))


@require_safe
def character_detail(request: HtmxHttpRequest, slug: str, character_slug: str) -> HttpResponse:
    viewing = viewing_of(request, slug)
    show = viewing.show

    def context() -> dict:
        # A character hidden at the point is the same 404 as one that does not exist, and no
        # page is kept for either: both ask this every time.
        character = character_or_404(viewing, character_slug)
        # The point's show: the rule keeps to it, so it is attached rather than read again.
        character.show = character.first_appearance.show = show
        timeline = viewing.cached_fragment(
            f"character:{character.pk}",
            "companion/character_detail.html#timeline",
            lambda: {"states": character.states_at(viewing.safe_point)},
        )
        return {"show": show, "viewing": viewing, "character": character, "timeline": timeline}

    # Keyed on the slug in the URL: a viewer at a point where someone has read the page already
    # gets it without looking the character up.
    return render_at_point(request, viewing, "companion/character_detail.html", context)
