"""The site's pages, a module a subject: home, shows, characters, story, episodes, marks,
parties, reports, search."""

from .characters import cast, character_detail
from .episodes import episode_detail, episode_notes, preview, show_anyway
from .home import browse, home
from .marks import change_watch, confirm_up_to, fill_gap, follow, season_watch, set_as_of
from .parties import party_create, party_detail, party_join, party_join_confirm, party_leave
from .previously import previously
from .reports import report_spoiler
from .search import search
from .shows import (
    progress_tools,
    season_episodes,
    show_detail,
)
from .story import story

__all__ = [
    "browse",
    "cast",
    "change_watch",
    "character_detail",
    "confirm_up_to",
    "episode_detail",
    "episode_notes",
    "fill_gap",
    "follow",
    "home",
    "party_create",
    "party_detail",
    "party_join",
    "party_join_confirm",
    "party_leave",
    "preview",
    "previously",
    "progress_tools",
    "report_spoiler",
    "search",
    "season_episodes",
    "season_watch",
    "set_as_of",
    "show_anyway",
    "show_detail",
    "story",
]
