from __future__ import annotations

from functools import wraps
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, retarget, trigger_client_event

from .models import (
    PARTY_SIZE_LIMIT,
    SEASON_STRIDE,
    Character,
    CharacterState,
    Episode,
    Party,
    Recap,
    ReviewerNote,
    Season,
    Show,
    SpoilerReport,
    Watch,
    progress_for,
    sequence_from_code,
)
from .viewing import AS_OF_SESSION_KEY, Viewing, viewing_for

PREVIOUSLY_EPISODES = 3
STORY_NOTES_PER_EPISODE = 3
OPEN_ALL_SEASONS_UP_TO = 60


def login_required_htmx(view):
    """login_required that sends an htmx request to the login page as a whole-page redirect."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        if request.htmx:
            back = quote(request.htmx.current_url_abs_path or "/", safe="/")
            return HttpResponseClientRedirect(f"{reverse('login')}?next={back}")
        return redirect_to_login(request.get_full_path())

    return wrapper


def get_episode(show: Show, season: int, number: int) -> Episode:
    return get_object_or_404(
        Episode.objects.select_related("show", "season"),
        show=show,
        sequence=season * SEASON_STRIDE + number,
    )


def progress_context(viewing: Viewing) -> dict:
    progress = progress_for(viewing.user, [viewing.show])[viewing.show.pk]
    after = viewing.safe_point.sequence if viewing.safe_point else 0
    upcoming = (
        viewing.show.episodes.regular().filter(sequence__gt=after).order_by("sequence").first()
    )
    viewing.decorate([upcoming] if upcoming else [])
    return {
        "progress": progress,
        "upcoming": upcoming,
        "look_back_points": LookBackPoints(viewing),
    }


class LookBackPoints:
    """The episodes a viewer can look back to, fetched only if the template lists them."""

    def __init__(self, viewing: Viewing):
        self.viewing = viewing

    def __iter__(self):
        safe = self.viewing.safe_point
        points = (
            self.viewing.show.episodes.regular()
            .visible_at(safe)
            .only("pk", "show_id", "sequence", "number")
        )
        for episode in points.order_by("sequence"):
            yield {"code": episode.code, "label": episode.short_label, "selected": episode == safe}


def season_context(viewing: Viewing, seasons: list[Season]) -> None:
    """Give each season `rows`: its episodes, decorated, with their recaps when safe."""
    show, safe = viewing.show, viewing.safe_point
    episodes = viewing.decorate(
        list(show.episodes.filter(season__in=seasons).with_watched(viewing.user))
    )
    recaps = {
        r.episode_id: r
        for r in Recap.objects.for_show(show).visible_at(safe).filter(episode__season__in=seasons)
    }
    by_season = {season.pk: season for season in seasons}
    for season in seasons:
        season.rows = []
    for episode in episodes:
        episode.visible_recap = recaps.get(episode.pk)
        by_season[episode.season_id].rows.append(episode)


def show_context(viewing: Viewing, *, also_open: int | None = None) -> dict:
    """The show page: every season, with episode rows for the open ones.

    A short show opens every season. A long-running one opens only the season the viewer is in
    (and one they asked for); the others load when unfolded, so the page stays small.
    """
    show, user = viewing.show, viewing.user
    seasons = list(show.seasons.all())
    progress = progress_context(viewing)
    upcoming = progress["upcoming"]
    if progress["progress"]["total"] <= OPEN_ALL_SEASONS_UP_TO:
        open_seasons = seasons
    else:
        current = upcoming.season_number if upcoming else seasons[-1].number if seasons else None
        open_seasons = [s for s in seasons if s.number in (current, also_open)]
    for season in seasons:
        season.rows = None
    season_context(viewing, open_seasons)
    return {
        "show": show,
        "viewing": viewing,
        "parties": list(user.parties.filter(show=show)) if user.is_authenticated else [],
        "seasons": seasons,
        **progress,
    }


@require_GET
def show_list(request: HttpRequest) -> HttpResponse:
    shows = list(Show.objects.all())
    progress = progress_for(request.user, shows)
    safe_points = Show.safe_points_for(request.user, shows)
    for show in shows:
        show.progress = progress[show.pk]
        show.safe_point = safe_points[show.pk]
    return render(request, "companion/show_list.html", {"shows": shows})


@require_GET
def show_detail(request: HttpRequest, slug: str) -> HttpResponse:
    show = get_object_or_404(Show, slug=slug)
    asked = request.GET.get("season", "")
    context = show_context(
        viewing_for(request, show), also_open=int(asked) if asked.isdecimal() else None
    )
    return render(request, "companion/show_detail.html", context)


@require_GET
def season_episodes(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """One season's episode rows, for unfolding a season or refreshing it after progress changed."""
    show = get_object_or_404(Show, slug=slug)
    season = get_object_or_404(show.seasons, number=number)
    if not request.htmx:
        return redirect(f"{show.get_absolute_url()}?season={number}#season-{number}")
    viewing = viewing_for(request, show)
    season_context(viewing, [season])
    return render(
        request,
        "companion/show_detail.html#season-episodes",
        {"show": show, "viewing": viewing, "season": season},
    )


@require_GET
def episode_detail(request: HttpRequest, slug: str, season: int, number: int) -> HttpResponse:
    show = get_object_or_404(Show, slug=slug)
    episode = get_episode(show, season, number)
    return render(request, "companion/episode_detail.html", episode_context(request, show, episode))


def episode_context(request: HttpRequest, show: Show, episode: Episode) -> dict:
    viewing = viewing_for(request, show)
    viewing.decorate([episode])
    episode.watched = (
        request.user.is_authenticated
        and Watch.objects.filter(user=request.user, episode=episode).exists()
    )
    context = {"show": show, "episode": episode, "viewing": viewing, **progress_context(viewing)}
    if episode.revealed:
        safe = viewing.safe_point
        context["unlocked"] = viewing.cached_fragment(
            f"episode:{episode.pk}",
            "companion/episode_detail.html#unlocked",
            lambda: {
                "recap": Recap.objects.visible_at(safe).filter(episode=episode).first(),
                "notes": ReviewerNote.objects.for_show(show)
                .visible_at(safe)
                .filter(episode=episode),
                "debuts": Character.objects.filter(show=show)
                .visible_at(safe)
                .filter(first_appearance=episode)
                .select_related("show"),
                "state_changes": CharacterState.objects.visible_at(safe)
                .filter(reveal_at=episode)
                .select_related("character__show", "reveal_at"),
            },
        )
    neighbours = show.episodes.order_by("sequence")
    context["previous"] = neighbours.filter(sequence__lt=episode.sequence).last()
    context["next"] = neighbours.filter(sequence__gt=episode.sequence).first()
    viewing.decorate([e for e in (context["previous"], context["next"]) if e])
    return context


@require_GET
def cast(request: HttpRequest, slug: str) -> HttpResponse:
    show = get_object_or_404(Show, slug=slug)
    viewing = viewing_for(request, show)
    cast_list = viewing.cached_fragment(
        "cast",
        "companion/cast.html#cast-list",
        lambda: {
            "characters": Character.objects.filter(show=show).with_states_at(viewing.safe_point)
        },
    )
    return render(
        request, "companion/cast.html", {"show": show, "viewing": viewing, "cast_list": cast_list}
    )


@require_GET
def character_detail(request: HttpRequest, slug: str, character_slug: str) -> HttpResponse:
    show = get_object_or_404(Show, slug=slug)
    viewing = viewing_for(request, show)
    # A character who has not appeared yet is a 404, exactly like one who does not exist.
    character = get_object_or_404(
        Character.objects.filter(show=show)
        .visible_at(viewing.safe_point)
        .select_related("first_appearance"),
        slug=character_slug,
    )
    timeline = viewing.cached_fragment(
        f"character:{character.pk}",
        "companion/character_detail.html#timeline",
        lambda: {
            "states": CharacterState.objects.visible_at(viewing.safe_point)
            .filter(character=character)
            .select_related("reveal_at")
        },
    )
    context = {"show": show, "viewing": viewing, "character": character, "timeline": timeline}
    return render(request, "companion/character_detail.html", context)


def story_context(show: Show, safe: Episode | None) -> dict:
    """Recaps in order with their notes, other notes, and where everyone stands: all safe at `safe`."""
    visible_notes = ReviewerNote.objects.for_show(show).visible_at(safe)
    totals = visible_notes.count_per_episode()
    notes_by_episode = {}
    for note in visible_notes.first_per_episode(STORY_NOTES_PER_EPISODE).order_by(
        "episode__sequence", "pk"
    ):
        notes_by_episode.setdefault(note.episode_id, []).append(note)
    recaps = list(Recap.objects.for_show(show).visible_at(safe))
    for recap in recaps:
        recap.notes = notes_by_episode.pop(recap.episode_id, [])
        recap.more_notes = totals.get(recap.episode_id, 0) - len(recap.notes)
    return {
        "recaps": recaps,
        "other_notes": [note for notes in notes_by_episode.values() for note in notes],
        "characters": Character.objects.filter(show=show).with_states_at(safe),
    }


def story_body(viewing: Viewing) -> str:
    if viewing.safe_point is None:
        return ""
    return viewing.cached_fragment(
        "story",
        "companion/story.html#story-body",
        lambda: story_context(viewing.show, viewing.safe_point),
    )


@require_GET
def story(request: HttpRequest, slug: str) -> HttpResponse:
    show = get_object_or_404(Show, slug=slug)
    viewing = viewing_for(request, show)
    return render(
        request,
        "companion/story.html",
        {"show": show, "viewing": viewing, "story_body": story_body(viewing)},
    )


@require_GET
def previously(request: HttpRequest, slug: str) -> HttpResponse:
    """Catch-up before the next episode: the last few watched, who changed in them, notes on them."""
    show = get_object_or_404(Show, slug=slug)
    viewing = viewing_for(request, show)
    safe = viewing.safe_point
    recent = list(
        show.episodes.regular().visible_at(safe).order_by("-sequence")[:PREVIOUSLY_EPISODES]
    )[::-1]
    upcoming = (
        show.episodes.regular()
        .filter(sequence__gt=safe.sequence if safe else 0)
        .order_by("sequence")
        .first()
    )
    viewing.decorate(recent + ([upcoming] if upcoming else []))
    context = {
        "show": show,
        "viewing": viewing,
        "recent": recent,
        "upcoming": upcoming,
        "recaps": Recap.objects.for_show(show).visible_at(safe).filter(episode__in=recent),
        "changes": CharacterState.objects.visible_at(safe)
        .filter(reveal_at__in=recent)
        .select_related("character__show", "reveal_at")
        .order_by("reveal_at__sequence", "character__name"),
        "notes": ReviewerNote.objects.for_show(show).visible_at(safe).filter(episode__in=recent),
    }
    return render(request, "companion/previously.html", context)


@require_GET
def search(request: HttpRequest, slug: str) -> HttpResponse:
    show = get_object_or_404(Show, slug=slug)
    viewing = viewing_for(request, show)
    query = request.GET.get("q", "").strip()[:100]
    results = {}
    if len(query) >= 2:
        safe = viewing.safe_point
        titled = show.episodes.filter(title__icontains=query)
        results = {
            "characters": Character.objects.filter(show=show)
            .visible_at(safe)
            .filter(name__icontains=query)
            .select_related("show")[:20],
            "episodes": [
                e
                for e in viewing.decorate(list(titled.order_by("sequence")[:20]))
                if not e.title_hidden
            ],
            "recaps": Recap.objects.for_show(show)
            .visible_at(safe)
            .filter(text__icontains=query)[:20],
            "notes": ReviewerNote.objects.for_show(show)
            .visible_at(safe)
            .filter(text__icontains=query)[:20],
            "states": CharacterState.objects.visible_at(safe)
            .filter(character__show=show, description__icontains=query)
            .select_related("character__show", "reveal_at")[:20],
        }
    context = {"show": show, "viewing": viewing, "query": query, "results": results}
    if request.htmx:
        return render(request, "companion/search.html#results", context)
    return render(request, "companion/search.html", context)


def _redirect_back(request: HttpRequest, fallback: str) -> HttpResponse:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = fallback
    return redirect(target)


@require_POST
@login_required_htmx
def change_watch(
    request: HttpRequest, slug: str, season: int, number: int, action: str
) -> HttpResponse:
    # Read the form before writing anything: an oversized or malformed body fails here, not halfway.
    origin = request.POST.get("from")
    show = get_object_or_404(Show, slug=slug)
    episode = get_episode(show, season, number)
    before = viewing_for(request, show).safe_point
    if action == "watch":
        Watch.objects.mark_watched(user=request.user, episode=episode)
    elif action == "up-to":
        added = Watch.objects.mark_watched_up_to(user=request.user, episode=episode)
        messages.success(
            request,
            f"Marked {added} more episode{'s' if added != 1 else ''} watched, up to {episode.short_label}.",
        )
    else:
        Watch.objects.unmark(user=request.user, episode=episode)
    if not request.htmx:
        return _redirect_back(request, show.get_absolute_url())

    if origin == "episode":
        context = episode_context(request, show, episode)
        response = render(request, "companion/episode_detail.html#episode-main", context)
    else:
        viewing = viewing_for(request, show)
        context = {
            "show": show,
            "viewing": viewing,
            "season": episode.season,
            **progress_context(viewing),
        }
        if viewing.safe_point == before:
            # Nothing was unlocked or locked: only this row's mark changed.
            row = viewing.decorate([show.episodes.with_watched(request.user).get(pk=episode.pk)])[0]
            row.visible_recap = (
                Recap.objects.visible_at(viewing.safe_point).filter(episode=row).first()
            )
            response = render(
                request, "companion/show_detail.html#row-response", context | {"episode": row}
            )
            retarget(response, f"#episode-{episode.pk}")
        else:
            season_context(viewing, [episode.season])
            response = render(request, "companion/show_detail.html#watch-response", context)
    after = context["viewing"].safe_point
    if after != before:
        # Other open seasons on the page listen for this and refresh themselves.
        trigger_client_event(
            response, "safe-point-changed", {"safe_point": after.short_label if after else ""}
        )
    return response


@require_POST
@login_required_htmx
def set_as_of(request: HttpRequest, slug: str) -> HttpResponse:
    """Rewatch mode (or, for editors, a preview): look at the show as of another episode."""
    show = get_object_or_404(Show, slug=slug)
    stored = dict(request.session.get(AS_OF_SESSION_KEY, {}))
    code = request.POST.get("episode", "")
    if code in ("", "now"):
        stored.pop(str(show.pk), None)
        messages.info(request, "Back to your own progress.")
    else:
        sequence = sequence_from_code(code)
        if sequence is None:
            messages.error(request, "Pick an episode like 2x5.")
            return _redirect_back(request, show.get_absolute_url())
        episode = get_episode(show, sequence // SEASON_STRIDE, sequence % SEASON_STRIDE)
        if (
            not request.user.is_staff
            and show.safe_point_for(request.user, as_of=episode) != episode
        ):
            messages.error(request, "You can only look back at episodes you have already watched.")
            return _redirect_back(request, show.get_absolute_url())
        stored[str(show.pk)] = episode.pk
        messages.info(request, f"Showing {show.title} as of {episode.short_label}.")
    request.session[AS_OF_SESSION_KEY] = stored
    return _redirect_back(request, show.get_absolute_url())


@require_GET
@login_required_htmx
def preview(request: HttpRequest, slug: str, season: int, number: int) -> HttpResponse:
    """A confirmation page linked from the admin; the switch itself is a POST to set_as_of."""
    show = get_object_or_404(Show, slug=slug)
    episode = get_episode(show, season, number)
    return render(request, "companion/preview.html", {"show": show, "episode": episode})


# --- Watch parties ------------------------------------------------------------------------------


@require_POST
@login_required_htmx
def party_create(request: HttpRequest, slug: str) -> HttpResponse:
    show = get_object_or_404(Show, slug=slug)
    name = request.POST.get("name", "").strip()[:100]
    if not name:
        messages.error(request, "Give the watch party a name.")
        return redirect(show.get_absolute_url())
    party = Party.objects.create(show=show, name=name, created_by=request.user)
    party.members.add(request.user)
    messages.success(request, "Watch party created. Share the invite link with your friends.")
    return redirect(party)


@require_GET
@login_required_htmx
def party_detail(request: HttpRequest, pk: int) -> HttpResponse:
    # Looked up through the viewer's own parties: someone else's party is a plain 404.
    party = get_object_or_404(request.user.parties.select_related("show"), pk=pk)
    party_point, standing = party.progress()
    viewing = viewing_for(request, party.show)
    viewing.safe_point, viewing.time_travel = party_point, False
    context = {
        "party": party,
        "show": party.show,
        "viewing": viewing,
        "standing": standing,
        "story_body": story_body(viewing),
        "invite_url": request.build_absolute_uri(reverse("party-join", args=[party.invite_token])),
    }
    return render(request, "companion/party_detail.html", context)


@require_http_methods(["GET", "POST"])
@login_required_htmx
def party_join(request: HttpRequest, token: str) -> HttpResponse:
    party = get_object_or_404(Party.objects.select_related("show"), invite_token=token)
    if request.method == "POST":
        if party.members.count() >= PARTY_SIZE_LIMIT:
            messages.error(request, f"This watch party is full ({PARTY_SIZE_LIMIT} members).")
            return redirect("show-list")
        party.members.add(request.user)
        messages.success(request, f"You joined {party.name}.")
        return redirect(party)
    return render(request, "companion/party_join.html", {"party": party})


@require_POST
@login_required_htmx
def party_leave(request: HttpRequest, pk: int) -> HttpResponse:
    party = get_object_or_404(request.user.parties, pk=pk)
    party.members.remove(request.user)
    if not party.members.exists():
        party.delete()
    messages.info(request, "You left the watch party.")
    return redirect("show-list")


# --- Spoiler reports ----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required_htmx
def report_spoiler(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    model = SpoilerReport.MODELS.get(kind)
    if model is None:
        raise Http404
    show_field = "character__show_id" if kind == SpoilerReport.Kind.STATE else "episode__show_id"
    show = get_object_or_404(
        Show, pk=model.objects.filter(pk=pk).values_list(show_field, flat=True).first() or 0
    )
    viewing = viewing_for(request, show)
    # Only what this viewer can see can be reported; anything else is the same 404 as nothing.
    content = get_object_or_404(model.objects.visible_at(viewing.safe_point), pk=pk)
    if request.method == "POST":
        SpoilerReport.objects.create(
            reporter=request.user,
            kind=kind,
            **{kind: content},
            reporter_safe_point=viewing.safe_point,
            message=request.POST.get("message", "")[:2000],
        )
        messages.success(
            request, "Thank you. An editor will look at it and move it later if it spoils."
        )
        return redirect(show.get_absolute_url())
    return render(
        request,
        "companion/report.html",
        {"show": show, "viewing": viewing, "content": content, "kind": kind},
    )
