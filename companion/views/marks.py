"""Marking episodes watched (one, up to here, a season), following, filling a gap, looking back."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe
from django_htmx.http import retarget, trigger_client_event

from ..forms import (
    AsOfForm,
    FillGapForm,
    FollowForm,
)
from ..http import (
    AuthenticatedHttpRequest,
    HtmxHttpRequest,
    local_path,
    login_required_htmx,
    redirect_to_next,
)
from ..lookups import episode_or_404, viewing_of
from ..models import (
    Episode,
    Follow,
    Recap,
    SafePoint,
    Show,
    Watch,
)
from ..renders import with_csrf
from ..viewing import (
    AS_OF_SESSION_KEY,
    SeasonView,
    Viewing,
    show_cards,
    viewing_for,
)
from .episodes import episode_context
from .shows import (
    has_messages,
    progress_context,
    progress_of_heads,
    row_messages,
    row_tag,
    season_context,
    season_heads,
    season_list,
)


def _redirect_back(request: HtmxHttpRequest, fallback: str) -> HttpResponse:
    return redirect_to_next(request.POST.get("next"), fallback)


@require_POST
@login_required_htmx
def change_watch(
    request: AuthenticatedHttpRequest, slug: str, season: int, number: int, action: str
) -> HttpResponse:
    # Read the form before writing anything: an oversized or malformed body fails here, not halfway.
    request.POST.get("next")
    episode = Episode.objects.at(slug, season, number)
    if episode is None:
        raise Http404("No such episode.")
    show = episode.show
    before = viewing_for(request, show).safe_point
    if action == "watch":
        Watch.objects.mark_watched(user=request.user, episode=episode)
    elif action == "up-to":
        added = Watch.objects.mark_watched_up_to(user=request.user, episode=episode)
        messages.success(
            request,
            f"Marked {added} more episode{'s' if added != 1 else ''} watched, up to {episode.short_label}.",
            extra_tags=row_tag(episode),
        )
    else:
        Watch.objects.unmark(user=request.user, episode=episode)
    viewing = viewing_for(request, show)
    if action == "watch" and not episode.is_special and not viewing.time_travel:
        say_what_it_unlocked(request, viewing, episode, before)
    if not request.htmx:
        return _redirect_back(request, show.get_absolute_url())

    # What htmx replaces picks the fragment: a card on the home page, the episode page's main
    # part, or otherwise a row of the show page.
    target = request.htmx.target or ""
    context: dict[str, object]
    if target.startswith("show-card-"):
        context = {"card": show_cards(request, [show])[0]}
        response = render(request, "companion/home.html#card-response", context)
    elif target == "episode-main":
        context = episode_context(viewing, episode)
        response = render(request, "companion/episode_detail.html#episode-response", context)
    else:
        unlocked = viewing.safe_point != before
        # Season heads come along out of band: "up to here" changes several seasons' counts; one
        # mark changes only its own season's, and a new safe point may reveal or hide a period.
        listed = episode.season
        if episode.is_special:
            number = show.listed_season(episode, show.season_starts())
            listed = show.seasons.get(number=number)
        # Every season's head, in the same one query: the progress box adds them up. Counted
        # from the run just read, which holds the mark.
        every = season_heads(viewing, from_run=True)
        heads = every
        if action != "up-to":
            heads = [
                head
                for head in heads
                if head.pk == listed.pk
                or (head.period and head.shown_period != viewing.period_at(head.season, before))
            ]
        shown = SeasonView(listed)
        context = {
            "show": show,
            "viewing": viewing,
            "season": shown,
            "seasons": heads,
            **progress_of_heads(viewing, every),
        }
        if not unlocked:
            # Nothing was unlocked or locked: only this row's mark changed.
            episode.watched = action != "unwatch"
            recap = Recap.objects.of_episodes_at(viewing.safe_point, episode).get(episode.pk)
            row = viewing.episode_view(episode, recap)
            shown.rows = [row]
            viewing.render_rows([shown])
            context |= row_messages(request, [row])
            response = render(request, "companion/show_detail.html#row-response", context)
            retarget(response, f"#episode-{episode.pk}")
        else:
            if has_messages(request):
                season_context(viewing, [shown])
                context |= row_messages(request, shown.rows or [])
            else:
                # The list as anyone at the new point unfolds it: often rendered already.
                context["season_list"] = with_csrf(season_list(viewing, listed), get_token(request))
            response = render(request, "companion/show_detail.html#watch-response", context)
    after = viewing.safe_point
    if after != before:
        # Other open seasons on the page listen for this and refresh themselves.
        trigger_client_event(response, "safe-point-changed", {"safe_point": after.short_label})
    return response


@require_safe
@login_required_htmx
def confirm_up_to(
    request: AuthenticatedHttpRequest, slug: str, season: int, number: int
) -> HttpResponse:
    """Without JavaScript, "watched all up to here" asks on this small page; its button POSTs."""
    viewing = viewing_of(request, slug)
    show = viewing.show
    episode = episode_or_404(show, season, number)
    unmarked = (
        show.episodes.regular()
        .filter(sequence__lte=episode.sequence)
        .exclude(watches__user=request.user)
        .count()
    )
    back = local_path(request.GET.get("next")) or show.get_absolute_url()
    context = {
        "show": show,
        "viewing": viewing,
        "episode": viewing.episode_view(episode),
        "unmarked": unmarked,
        "next": back,
    }
    return render(request, "companion/confirm_up_to.html", context)


@require_POST
@login_required_htmx
def season_watch(request: AuthenticatedHttpRequest, slug: str, number: int) -> HttpResponse:
    """Mark every episode of one season watched."""
    show = get_object_or_404(Show, slug=slug)
    season = get_object_or_404(show.seasons, number=number)
    before = viewing_for(request, show).safe_point
    added = Watch.objects.mark_season_watched(user=request.user, season=season)
    name = f"season {season.number}" if season.number else "the specials"
    messages.success(
        request, f"Marked {added} more episode{'s' if added != 1 else ''} of {name} watched."
    )
    viewing = viewing_for(request, show)
    if not request.htmx:
        return _redirect_back(request, f"{show.get_absolute_url()}#season-{season.number}")
    seasons = season_heads(viewing)
    shown = next(s for s in seasons if s.pk == season.pk)
    shown.open = True
    season_context(viewing, [shown])
    context = {
        "show": show,
        "viewing": viewing,
        "season": shown,
        "seasons": seasons,
        **progress_context(viewing),
        "row_messages": {},  # its message is about the season, at the top
    }
    response = render(request, "companion/show_detail.html#season-watch-response", context)
    if viewing.safe_point != before:
        trigger_client_event(
            response, "safe-point-changed", {"safe_point": viewing.safe_point.short_label}
        )
    return response


def say_what_it_unlocked(
    request: HtmxHttpRequest, viewing: Viewing, episode: Episode, before: SafePoint
) -> None:
    """After marking one episode out of order: what it did, and did not, unlock."""
    after = viewing.safe_point
    if after == before and episode.sequence > before.sequence:
        first_gap = viewing.upcoming
        if first_gap is None:
            return
        safe = (
            f"you are still safe up to {after.short_label}" if after else "nothing is unlocked yet"
        )
        messages.info(
            request,
            f"Marked {episode.short_label} watched, but it unlocks nothing yet: you have not "
            f"watched {first_gap.short_label}, so {safe}.",
            extra_tags=row_tag(episode),
        )
    elif after.sequence > episode.sequence:
        messages.success(
            request,
            f"Marked {episode.short_label} watched. That fills the gap before what you had "
            f"watched after it: you are now safe up to {after.short_label}.",
            extra_tags=row_tag(episode),
        )


@require_POST
@login_required_htmx
def follow(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """Follow a show (it appears on the home page) or stop following it."""
    show = get_object_or_404(Show, slug=slug)
    form = FollowForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose to follow the show or to stop following it.")
    elif form.cleaned_data["action"] == "follow":
        Follow.objects.follow(user=request.user, shows=[show])
        messages.success(request, f"{show.title} is on your home page now.")
    else:
        Follow.objects.unfollow(user=request.user, show=show)
        messages.info(
            request,
            f"You no longer follow {show.title}. Your watch history is kept; marking an "
            "episode follows it again.",
        )
    if not request.htmx:
        return _redirect_back(request, show.get_absolute_url())
    following = request.user.follows.filter(show=show).exists()
    context = {"show": show, "following": following}
    return render(request, "companion/show_detail.html#follow-response", context)


@require_POST
@login_required_htmx
def fill_gap(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """Mark every regular episode up to the furthest one watched: the gap before it closes."""
    show = get_object_or_404(Show, slug=slug)
    form = FillGapForm(request.POST)
    if not form.is_valid():
        errors = form.errors.get("up_to", ["Pick an episode like 2x5."])
        messages.error(request, " ".join(map(str, errors)))
        return redirect(show.get_absolute_url())
    episode = episode_or_404(show, *form.cleaned_data["up_to"])
    if episode.is_special or not request.user.watches.filter(episode=episode).exists():
        messages.error(
            request, f"You have not watched {episode.short_label}, so nothing was marked."
        )
        return redirect(show.get_absolute_url())
    added = Watch.objects.mark_watched_up_to(user=request.user, episode=episode)
    messages.success(
        request,
        f"Marked the {added} episode{'s' if added != 1 else ''} you had skipped watched: you are "
        f"safe up to {episode.short_label}.",
    )
    return redirect(show.get_absolute_url())


@require_POST
@login_required_htmx
def set_as_of(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """Rewatch mode (or, for editors, a preview): look at the show as of another episode."""
    show = get_object_or_404(Show, slug=slug)
    form = AsOfForm(request.POST)
    if not form.is_valid():
        # An ErrorList yields its messages as strings; str() is for the type checker.
        errors = form.errors.get("episode", ["Pick an episode like 2x5."])
        messages.error(request, " ".join(map(str, errors)))
        return _redirect_back(request, show.get_absolute_url())
    stored = dict(request.session.get(AS_OF_SESSION_KEY, {}))
    code = form.cleaned_data["episode"]
    if code is None:
        stored.pop(str(show.pk), None)
        messages.info(request, "Back to your own progress.")
    else:
        episode = episode_or_404(show, *code)
        if show.safe_point_for(request.user, as_of=episode).episode != episode:
            messages.error(request, "You can only look back at episodes you have already watched.")
            return _redirect_back(request, show.get_absolute_url())
        stored[str(show.pk)] = episode.pk
        messages.info(request, f"Showing {show.title} as of {episode.short_label}.")
    request.session[AS_OF_SESSION_KEY] = stored
    return _redirect_back(request, show.get_absolute_url())
