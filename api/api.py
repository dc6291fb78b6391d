"""The JSON API, /api/v1/: the catalogue, progress, marking, and what is safe at the viewer's point.

Every show endpoint starts from `viewing_for`, which computes the viewer's safe point once with
`Show.safe_point_for`, and reads gated content only through `visible_at` at that point: the API
returns exactly what the pages show. A hidden public id is looked up the same way as a missing
one, so both answer the same 404 after the same queries.
"""

from __future__ import annotations

import logging
import math

from django.http import Http404, HttpRequest
from ninja import NinjaAPI, Path, Query
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer, SessionAuth

from accounts.models import User
from companion.lookups import episode_or_404, show_or_404, viewing_of, visible_or_404
from companion.models import (
    MAX_NUMBER,
    Character,
    CharacterState,
    Episode,
    Follow,
    Recap,
    ReviewerNote,
    Show,
    Watch,
    progress_for,
)
from companion.viewing import Viewing, search_results, show_cards, viewing_for
from config.middleware import ERROR_MESSAGES, busy_response, database_busy

from . import schemas
from .middleware import SERVER_ERROR
from .models import ApiToken
from .throttling import PerTokenThrottle, TooManyGuesses, count_guess, refuse_if_guessing

logger = logging.getLogger(__name__)


class ApiRequest(HttpRequest):
    """A request past the API's authentication: token or session, the viewer is signed in."""

    user: User


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>`; the token's owner becomes request.user."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        # An address that keeps sending wrong tokens is refused before another is looked at.
        refuse_if_guessing(request)
        found = ApiToken.objects.authenticate(token)
        if found is None:
            count_guess(request)
        else:
            request.user = found.user
        return found


class SiteSession(SessionAuth):
    """The site's own session: its CSRF check is for a signed-in viewer, so no credentials is a 401."""

    def _get_key(self, request: HttpRequest) -> str | None:
        if not request.user.is_authenticated:
            return None
        return super()._get_key(request)


# A NUL in any query string is refused with a 400 before a view runs (RejectNulMiddleware): the
# schema says so of every text parameter, so a client that reads it never sends one.
NO_NUL = r"^[^\x00]*$"


class SpoilerfreeAPI(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        schema = super().get_openapi_schema(*args, **kwargs)
        for operations in schema["paths"].values():
            for operation in operations.values():
                for parameter in operation.get("parameters", []):
                    if parameter["in"] == "query":
                        for part in [parameter["schema"], *parameter["schema"].get("anyOf", [])]:
                            if part.get("type") == "string":
                                part.setdefault("pattern", NO_NUL)
        return schema


api = SpoilerfreeAPI(
    title="Spoilerfree API",
    version="1",
    description="What a viewer can safely read of the shows they watch. See docs/API.md.",
    # Token calls need no CSRF token; session calls from the site keep Django's CSRF check.
    auth=[BearerToken(), SiteSession()],
    throttle=[PerTokenThrottle()],
    urls_namespace="api-v1",
    docs_url=None,
)

ERRORS: dict[int, type] = {
    # A NUL character in the query string (config.middleware.RejectNulMiddleware).
    400: schemas.Message,
    401: schemas.Message,
    403: schemas.Message,
    404: schemas.Message,
    422: schemas.ValidationMessage,
    429: schemas.Message,
    # The database busy with another writer: try again after Retry-After.
    503: schemas.Message,
}


def answers(ok: type, status: int = 200) -> dict[int, type]:
    return {status: ok, **ERRORS}


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Exception):
    # One message for everything missing or hidden, whatever the lookup said, even in DEBUG.
    return api.create_response(request, {"detail": ERROR_MESSAGES[404]}, status=404)


def bearer_challenge(request: HttpRequest) -> str:
    """RFC 6750's challenge: a token was sent and refused, or there were no credentials at all."""
    scheme = request.headers.get("Authorization", "").split(" ", 1)[0]
    if scheme.lower() == "bearer":
        return 'Bearer realm="api", error="invalid_token"'
    return 'Bearer realm="api"'


@api.exception_handler(AuthenticationError)
def unauthorized(request: HttpRequest, exc: Exception):
    message = "Sign in, or send a personal token as 'Authorization: Bearer <token>'."
    response = api.create_response(request, {"detail": message}, status=401)
    response["WWW-Authenticate"] = bearer_challenge(request)
    return response


@api.exception_handler(TooManyGuesses)
def too_many_guesses(request: HttpRequest, exc: Exception):
    response = api.create_response(request, {"detail": ERROR_MESSAGES[429]}, status=429)
    response["Retry-After"] = str(math.ceil(exc.wait if isinstance(exc, TooManyGuesses) else 60))
    return response


@api.exception_handler(Exception)
def server_error(request: HttpRequest, exc: Exception):
    if database_busy(exc):
        # The API catches its own exceptions, so Django's handler500 never sees this one.
        return busy_response(request)
    logger.exception("API error at %s", request.path, exc_info=exc)
    return api.create_response(request, {"detail": SERVER_ERROR}, status=500)


# --- Helpers ----------------------------------------------------------------------------------


def page(items, params: schemas.PageParams, *, decorate=None) -> dict:
    """One page of a queryset: the count, the slice, each item prepared if `decorate` is given."""
    chosen = list(items[params.offset : params.offset + params.limit])
    return {
        "count": items.count(),
        "limit": params.limit,
        "offset": params.offset,
        "items": decorate(chosen) if decorate else chosen,
    }


def show_ids(show: Show) -> dict:
    return {
        "tvmaze": show.tvmaze_id,
        "tvdb": show.tvdb_id,
        "imdb": show.imdb_id,
        "tmdb": show.tmdb_id,
        "trakt": show.trakt_id,
    }


def shows_out(shows: list[Show], user: User) -> list[dict]:
    """Each show with the viewer's point and progress in it, in the same few queries for any number."""
    progress = progress_for(user, shows)
    points = Show.safe_points_for(user, shows)
    return [
        {
            "slug": show.slug,
            "title": show.title,
            "network": show.network,
            "premise": show.premise,
            "safe_point": points[show.pk].code or None,
            "progress": progress[show.pk],
            "ids": show_ids(show),
            "poster": show.poster_url,
        }
        for show in shows
    ]


def progress_of(viewing: Viewing, user: User) -> dict:
    show, safe = viewing.show, viewing.safe_point
    watched = list(
        Episode.objects.filter(show=show, watches__user=user)
        .order_by("sequence")
        .only("season_number", "number", "sequence")
    )
    # Where the run ends is the show page's gap: the first episode skipped, if any was.
    skipped = show.gap_for(user, viewing.own_point)
    gap = skipped.runs[0][0].code if skipped and skipped.runs else None
    up_next = show.episodes.after(safe).select_related("show").with_watched(user).first()
    return {
        "show": show.slug,
        "safe_point": safe.code or None,
        "watched": [e.code for e in watched],
        "gap": gap,
        "up_next": viewing.episode_view(up_next) if up_next else None,
        "progress": progress_for(user, [show])[show.pk],
    }


Season = Path(..., ge=0, le=MAX_NUMBER, description="The season number; 0 holds the specials.")
Number = Path(..., ge=1, le=MAX_NUMBER, description="The episode's number in its season.")
EPISODE = "/shows/{slug:slug}/episodes/{int:season}/{int:number}/"


# --- The catalogue ----------------------------------------------------------------------------


@api.get("/shows/", response=answers(schemas.ShowPage), tags=["shows"])
def list_shows(
    request: ApiRequest,
    params: Query[schemas.PageParams],
    tvmaze: int | None = Query(None, ge=1, description="Only the show with this TVmaze id."),
    tvdb: str | None = Query(None, max_length=20, description="Only the show with this TVDB id."),
    imdb: str | None = Query(None, max_length=20, description="Only the show with this IMDb id."),
):
    """Every show, with the viewer's safe point and progress in each; or the one with an id."""
    shows = Show.objects.all()
    if tvmaze is not None:
        shows = shows.filter(tvmaze_id=tvmaze)
    if tvdb:
        shows = shows.filter(tvdb_id=tvdb.strip())
    if imdb:
        shows = shows.filter(imdb_id__iexact=imdb.strip())
    return page(shows, params, decorate=lambda shows: shows_out(shows, request.user))


@api.get("/shows/{slug:slug}/", response=answers(schemas.ShowOut), tags=["shows"])
def show_detail(request: ApiRequest, slug: str):
    """One show, with the viewer's safe point and progress."""
    return shows_out([show_or_404(slug)], request.user)[0]


@api.get("/shows/{slug:slug}/episodes/", response=answers(schemas.EpisodePage), tags=["episodes"])
def list_episodes(
    request: ApiRequest,
    slug: str,
    params: Query[schemas.PageParams],
    season: int | None = Query(None, ge=0, le=MAX_NUMBER),
):
    """The show's episodes in story order; titles and synopses as the viewer's preferences say."""
    viewing = viewing_of(request, slug)
    episodes = viewing.show.episodes.select_related("show").with_watched(request.user)
    if season is not None:
        episodes = episodes.filter(season_number=season)
    return page(episodes.order_by("sequence"), params, decorate=viewing.decorate)


@api.get(EPISODE, response=answers(schemas.EpisodeDetailOut), tags=["episodes"])
def episode_detail(request: ApiRequest, slug: str, season: int = Season, number: int = Number):
    """One episode; once it is revealed, its recap, notes, debuts and who changed in it."""
    viewing = viewing_of(request, slug)
    show, safe = viewing.show, viewing.safe_point
    episode = (
        show.episodes.select_related("show")
        .with_watched(request.user)
        .filter(season_number=season, number=number)
        .first()
    )
    if episode is None:
        raise Http404
    detail: dict = {
        "episode": viewing.episode_view(episode),
        "recap": None,
        "notes": [],
        "debuts": [],
        "state_changes": [],
    }
    if viewing.is_revealed(episode):
        detail["recap"] = (
            Recap.objects.visible_at(safe).of_episodes(episode).select_related("episode").first()
        )
        detail["notes"] = (
            ReviewerNote.objects.visible_at(safe).filter(episode=episode).select_related("episode")
        )
        detail["debuts"] = Character.objects.visible_at(safe).filter(first_appearance=episode)
        detail["state_changes"] = (
            CharacterState.objects.visible_at(safe)
            .filter(reveal_at=episode)
            .select_related("character", "reveal_at")
        )
    return detail


# --- The viewer's shows ----------------------------------------------------------------------


def followed_out(shows: list[Show], request: ApiRequest) -> list[dict]:
    """As the home page's cards: each show with the viewer's point, progress and what is up next."""
    cards = show_cards(request, shows)
    for card in cards:
        if card.upcoming is not None:
            # The episode after the end of the unbroken watched run is unwatched by definition.
            card.upcoming.episode.watched = False
    return [
        {
            "slug": card.show.slug,
            "title": card.show.title,
            "network": card.show.network,
            "premise": card.show.premise,
            "safe_point": card.safe_point.code or None,
            "progress": card.progress,
            "up_next": card.upcoming,
            "ids": show_ids(card.show),
            "poster": card.show.poster_url,
        }
        for card in cards
    ]


@api.get("/following/", response=answers(schemas.FollowedShowPage), tags=["following"])
def list_following(request: ApiRequest, params: Query[schemas.PageParams]):
    """The shows the viewer follows, by title, with progress and what is up next in each."""
    followed = Follow.objects.shows_of(request.user)
    return page(followed, params, decorate=lambda shows: followed_out(shows, request))


@api.post("/shows/{slug:slug}/follow/", response=answers(schemas.FollowOut), tags=["following"])
def follow(request: ApiRequest, slug: str):
    """Follow a show (again is harmless); marking an episode watched follows its show too."""
    show = show_or_404(slug)
    Follow.objects.follow(user=request.user, shows=[show])
    return {"show": show.slug, "following": True}


@api.delete("/shows/{slug:slug}/follow/", response=answers(schemas.FollowOut), tags=["following"])
def unfollow(request: ApiRequest, slug: str):
    """Stop following a show; the watch history in it is kept."""
    show = show_or_404(slug)
    Follow.objects.unfollow(user=request.user, show=show)
    return {"show": show.slug, "following": False}


# --- Progress and marking ---------------------------------------------------------------------


@api.get("/shows/{slug:slug}/progress/", response=answers(schemas.ProgressOut), tags=["progress"])
def progress(request: ApiRequest, slug: str):
    """The viewer's safe point, watched episodes, the gap if there is one, and what is up next."""
    return progress_of(viewing_of(request, slug), request.user)


@api.post(f"{EPISODE}watched/", response=answers(schemas.ProgressOut), tags=["progress"])
def mark_watched(request: ApiRequest, slug: str, season: int = Season, number: int = Number):
    """Mark one episode watched (again is harmless)."""
    show = show_or_404(slug)
    Watch.objects.mark_watched(user=request.user, episode=episode_or_404(show, season, number))
    return progress_of(viewing_for(request, show), request.user)


@api.delete(f"{EPISODE}watched/", response=answers(schemas.ProgressOut), tags=["progress"])
def unmark_watched(request: ApiRequest, slug: str, season: int = Season, number: int = Number):
    """Unmark one episode; what it had unlocked is locked again."""
    show = show_or_404(slug)
    Watch.objects.unmark(user=request.user, episode=episode_or_404(show, season, number))
    return progress_of(viewing_for(request, show), request.user)


@api.post(f"{EPISODE}watched-up-to/", response=answers(schemas.MarkedUpToOut), tags=["progress"])
def mark_watched_up_to(request: ApiRequest, slug: str, season: int = Season, number: int = Number):
    """Mark every regular episode up to and including this one watched."""
    show = show_or_404(slug)
    episode = episode_or_404(show, season, number)
    added = Watch.objects.mark_watched_up_to(user=request.user, episode=episode)
    return {"added": added, "progress": progress_of(viewing_for(request, show), request.user)}


# --- What is safe at the viewer's point -------------------------------------------------------


def recaps_at(viewing: Viewing):
    return (
        Recap.objects.visible_at(viewing.safe_point)
        .select_related("episode")
        .order_by("episode__sequence")
    )


def notes_at(viewing: Viewing):
    return ReviewerNote.objects.visible_at(viewing.safe_point).select_related("episode")


def characters_at(viewing: Viewing):
    return Character.objects.with_states_at(viewing.safe_point).order_by("name", "pk")


@api.get("/shows/{slug:slug}/recaps/", response=answers(schemas.RecapPage), tags=["content"])
def list_recaps(request: ApiRequest, slug: str, params: Query[schemas.PageParams]):
    """Recaps safe at the viewer's point, in story order."""
    return page(recaps_at(viewing_of(request, slug)), params)


@api.get(
    "/shows/{slug:slug}/recaps/{slug:public_id}/",
    response=answers(schemas.RecapOut),
    tags=["content"],
)
def recap_detail(request: ApiRequest, slug: str, public_id: str):
    return visible_or_404(recaps_at(viewing_of(request, slug)), public_id=public_id)


@api.get(
    "/shows/{slug:slug}/characters/", response=answers(schemas.CharacterPage), tags=["content"]
)
def list_characters(request: ApiRequest, slug: str, params: Query[schemas.PageParams]):
    """Everyone met by the viewer's point, each with where they stand there."""
    return page(characters_at(viewing_of(request, slug)), params)


@api.get(
    "/shows/{slug:slug}/characters/{slug:public_id}/",
    response=answers(schemas.CharacterDetailOut),
    tags=["content"],
)
def character_detail(request: ApiRequest, slug: str, public_id: str):
    """One character, with their timeline up to the viewer's point."""
    return visible_or_404(characters_at(viewing_of(request, slug)), public_id=public_id)


@api.get("/shows/{slug:slug}/notes/", response=answers(schemas.NotePage), tags=["content"])
def list_notes(request: ApiRequest, slug: str, params: Query[schemas.PageParams]):
    """Reviewers' notes safe at the viewer's point."""
    return page(notes_at(viewing_of(request, slug)), params)


@api.get(
    "/shows/{slug:slug}/notes/{slug:public_id}/",
    response=answers(schemas.NoteOut),
    tags=["content"],
)
def note_detail(request: ApiRequest, slug: str, public_id: str):
    return visible_or_404(notes_at(viewing_of(request, slug)), public_id=public_id)


@api.get("/shows/{slug:slug}/search/", response=answers(schemas.SearchOut), tags=["content"])
def search(
    request: ApiRequest,
    slug: str,
    q: str = Query("", max_length=200),
):
    """Search what the viewer has unlocked: characters, episode titles, recaps, notes, states."""
    viewing = viewing_of(request, slug)
    # As the search page: at most 100 characters, at least 2. NUL cannot be in a SQL string.
    query = q.replace("\x00", "").strip()[:100]
    found = search_results(viewing, query)
    # The search page's episodes, with the viewer's marks: one more query, as the show page's rows.
    episodes = viewing.decorate(
        list(
            viewing.show.episodes.filter(pk__in=[e.pk for e in found.get("episodes", [])])
            .select_related("show")
            .with_watched(request.user)
            .order_by("sequence")
        )
    )
    return {
        "query": query,
        "characters": list(found.get("characters", [])),
        "episodes": episodes,
        "recaps": list(found.get("recaps", [])),
        "notes": list(found.get("notes", [])),
        "states": list(found.get("states", [])),
    }


# --- Apps with endpoints of their own ---------------------------------------------------------

from discussion.api import router as discussion_router  # noqa: E402  (it builds on the helpers above)

api.add_router("/", discussion_router)
