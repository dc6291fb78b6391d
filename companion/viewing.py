"""What one viewer sees of one show in this request: their safe point, computed once, and their preferences."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest

from .models import Episode, Show, is_revealed

AS_OF_SESSION_KEY = "as_of"


@dataclass
class Viewing:
    show: Show
    user: object
    safe_point: Episode | None
    time_travel: bool
    hide_titles: bool
    hide_synopses: bool

    def is_revealed(self, episode: Episode) -> bool:
        return is_revealed(episode, self.safe_point)

    def decorate(self, episodes):
        """Set revealed, shown_title and shown_synopsis on each episode for the templates."""
        for episode in episodes:
            episode.revealed = self.is_revealed(episode)
            hidden_title = self.hide_titles and not episode.revealed
            episode.shown_title = f"Episode {episode.number}" if hidden_title else episode.display_title
            episode.title_hidden = hidden_title and bool(episode.title)
            hide_synopsis = self.hide_synopses and not episode.revealed
            episode.shown_synopsis = "" if hide_synopsis else episode.synopsis
        return episodes


def as_of_episode(request: HttpRequest, show: Show) -> Episode | None:
    episode_id = request.session.get(AS_OF_SESSION_KEY, {}).get(str(show.pk))
    if episode_id is None:
        return None
    return Episode.objects.filter(pk=episode_id, show=show).first()


def viewing_for(request: HttpRequest, show: Show) -> Viewing:
    as_of = as_of_episode(request, show) if request.user.is_authenticated else None
    safe_point = show.safe_point_for(request.user, as_of=as_of)
    user = request.user
    return Viewing(
        show=show,
        user=user,
        safe_point=safe_point,
        time_travel=as_of is not None and safe_point == as_of,
        hide_titles=getattr(user, "hide_unwatched_titles", False),
        hide_synopses=getattr(user, "hide_unwatched_synopses", True),
    )
