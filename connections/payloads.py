"""What Jellyfin, Plex and Emby send when something is played, read into one shape.

Each reader takes the decoded JSON object a server sent and says either which episode was
finished (series title, season, number and whatever ids the payload carries) or why the event
changes nothing. Episode titles are never read: one can be a spoiler, and we need only numbers.
The shapes, and where each comes from, are in tests/fixtures/media/README.md.
"""

from __future__ import annotations

import html
import re
from dataclasses import asdict, dataclass, replace

ID_SERVICES = ("tvdb", "tmdb", "imdb", "tvmaze")
# Plex's legacy agents put the series id, season and number in the episode's guid:
# "com.plexapp.agents.thetvdb://81189/1/1?lang=en".
PLEX_LEGACY_GUID = re.compile(
    r"^com\.plexapp\.agents\.(thetvdb|themoviedb|imdb)://([^/?]+)/\d+/\d+", re.IGNORECASE
)
PLEX_LEGACY_SERVICE = {"thetvdb": "tvdb", "themoviedb": "tmdb", "imdb": "imdb"}
# Plex's new agent lists the episode's own ids: [{"id": "tvdb://8271374"}, ...].
PLEX_GUID = re.compile(r"^(tvdb|tmdb|imdb)://(\S+)$", re.IGNORECASE)

# What the Jellyfin Webhook plugin's "Generic" destination should send: docs/MEDIA_SERVERS.md.
# Three braces everywhere: the plugin's Handlebars HTML-escapes `{{…}}` ("Law & Order" would arrive
# as "Law &amp; Order", and a `"`, which the plugin itself turns into `\"`, as the invalid `\&quot;`).
# Every value is quoted, so a field the plugin leaves empty (a movie has no SeasonNumber) still
# makes valid JSON; the readers accept numbers and booleans as text.
JELLYFIN_TEMPLATE = """{
  "NotificationType": "{{{NotificationType}}}",
  "ItemType": "{{{ItemType}}}",
  "SeriesName": "{{{SeriesName}}}",
  "Year": "{{{Year}}}",
  "SeasonNumber": "{{{SeasonNumber}}}",
  "EpisodeNumber": "{{{EpisodeNumber}}}",
  "Provider_tvdb": "{{{Provider_tvdb}}}",
  "Provider_tmdb": "{{{Provider_tmdb}}}",
  "Provider_imdb": "{{{Provider_imdb}}}",
  "Provider_tvmaze": "{{{Provider_tvmaze}}}",
  "PlayedToCompletion": "{{{PlayedToCompletion}}}",
  "Played": "{{{Played}}}",
  "SaveReason": "{{{SaveReason}}}",
  "ItemId": "{{{ItemId}}}",
  "UserId": "{{{UserId}}}",
  "UtcTimestamp": "{{{UtcTimestamp}}}"
}"""


class BadPayload(ValueError):
    """The body is not what this server sends; the message says what was expected."""


@dataclass(frozen=True)
class Finished:
    """An episode the server says was watched to the end, as the server names it."""

    series_title: str
    season: int
    number: int
    year: int | None = None
    episode_ids: tuple[tuple[str, str], ...] = ()
    series_ids: tuple[tuple[str, str], ...] = ()

    @property
    def code(self) -> str:
        return f"S{self.season}E{self.number}"

    def as_json(self) -> dict:
        """What the marking job is handed (task arguments are JSON)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Finished:
        ids = ("episode_ids", "series_ids")
        pairs = {key: tuple((str(k), str(v)) for k, v in data[key]) for key in ids}
        return cls(**{**data, **pairs})


@dataclass(frozen=True)
class Reading:
    """The event's name, and either the finished episode or why nothing changes."""

    event: str
    finished: Finished | None = None
    ignored: str = ""
    # A no-op a server sends over and over (progress saves): answered, but not listed.
    quiet: bool = False


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= 9999 else None
    text = _text(value)
    return int(text) if text.isascii() and text.isdecimal() and len(text) <= 4 else None


def _title(value: object) -> str:
    """A series title; one from a `{{…}}` template arrives HTML-escaped ("Law &amp; Order")."""
    return html.unescape(_text(value))


def _truthy(value: object) -> bool:
    # Jellyfin's Handlebars renders a C# bool as "True"; JSON servers send true.
    return value is True or _text(value).lower() == "true"


def _object(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _ids(pairs) -> tuple[tuple[str, str], ...]:
    return tuple((service, value) for service, value in pairs if value)


def _episode(
    event: str,
    *,
    kind: str,
    finished: bool,
    series_title: str,
    season: object,
    number: object,
    year: int | None = None,
    episode_ids: tuple[tuple[str, str], ...] = (),
    series_ids: tuple[tuple[str, str], ...] = (),
) -> Reading:
    """The checks every server's event goes through, in the order the Connections page explains."""
    if kind.lower() == "movie":
        return Reading(event, ignored="a movie")
    if kind.lower() != "episode":
        return Reading(event, ignored="not an episode")
    if not finished:
        return Reading(event, ignored="not finished")
    season_number, episode_number = _int(season), _int(number)
    if season_number is None or episode_number is None or not episode_number:
        return Reading(event, ignored="no season and episode number")
    return Reading(
        event,
        finished=Finished(
            series_title=series_title,
            season=season_number,
            number=episode_number,
            year=year,
            episode_ids=episode_ids,
            series_ids=series_ids,
        ),
    )


def read_jellyfin(data: dict) -> Reading:
    """Either Jellyfin webhook plugin, in whichever of the shapes its users are told to send."""
    if "NotificationType" not in data and ("Event" in data or "Item" in data):
        return _read_jellyfin_nested(data)
    return _read_jellyfin_flat(data)


def _read_jellyfin_flat(data: dict) -> Reading:
    """The Webhook plugin's PlaybackStop (played to completion) or UserDataSaved (marked played)."""
    event = _text(data.get("NotificationType"))
    # Progress saves come every few seconds of playback: answered, not listed.
    quiet = event == "PlaybackProgress"
    if event == "PlaybackStop":
        finished = _truthy(data.get("PlayedToCompletion"))
    elif event == "UserDataSaved":
        # Saved for many reasons (a rating, a favourite, progress); only a played mark counts.
        reason = _text(data.get("SaveReason"))
        finished = _truthy(data.get("Played")) and reason in (
            "",
            "TogglePlayed",
            "PlaybackFinished",
        )
        quiet = not finished
    elif event in ("PlaybackStart", "PlaybackProgress"):
        finished = False
    else:
        return Reading(event, ignored="not about watching")
    reading = _episode(
        event,
        kind=_text(data.get("ItemType")),
        finished=finished,
        series_title=_title(data.get("SeriesName")),
        season=data.get("SeasonNumber"),
        number=data.get("EpisodeNumber"),
        # For an episode the plugin's Year is its series' production year.
        year=_int(data.get("Year")),
        episode_ids=_ids((s, _text(data.get(f"Provider_{s}"))) for s in ID_SERVICES),
    )
    return replace(reading, quiet=quiet and reading.finished is None)


def _read_jellyfin_nested(data: dict) -> Reading:
    """shemanaev's Webhooks plugin ("Default" format), and the templates written in its shape."""
    # `Event` is Play, Pause, Resume, Progress, Stop, Scrobble (played past 90%), MarkPlayed, ...;
    # `Item` is Jellyfin's own item, with the viewer's `UserData.Played`; `Series` its series.
    event = _text(data.get("Event"))
    item, series = _object(data.get("Item")), _object(data.get("Series"))
    if event in ("MarkPlayed", "Scrobble"):
        finished = True
    elif event == "Stop":
        # Jellyfin saves a stop past the end as played before it tells the plugin.
        finished = _truthy(_object(item.get("UserData")).get("Played"))
    elif event in ("", "Play", "Pause", "Resume", "Progress", "MarkUnplayed"):
        finished = False
    else:
        return Reading(event, ignored="not about watching")
    reading = _episode(
        event,
        kind=_text(item.get("Type")),
        finished=finished,
        series_title=_title(item.get("SeriesName") or series.get("Name")),
        season=item.get("ParentIndexNumber"),
        number=item.get("IndexNumber"),
        # The item's ProductionYear is the episode's own; the series' is its series'.
        year=_int(series.get("ProductionYear")),
        episode_ids=_provider_ids(item),
        series_ids=_provider_ids(series),
    )
    return replace(reading, quiet=event == "Progress" and reading.finished is None)


def _provider_ids(item: dict) -> tuple[tuple[str, str], ...]:
    """Jellyfin's and Emby's `ProviderIds` ({"Tvdb": "…", "Imdb": "…"}) as (service, id) pairs."""
    given = {
        str(key).lower(): _text(value) for key, value in _object(item.get("ProviderIds")).items()
    }
    return _ids((service, given.get(service, "")) for service in ID_SERVICES)


def read_plex(data: dict) -> Reading:
    """Plex's media.scrobble: sent once an episode is played past the 90% mark."""
    event = _text(data.get("event"))
    if not event.startswith("media."):
        return Reading(event, ignored="not about watching")
    if data.get("user") is False:
        # A server owner's webhooks also fire for the people they share it with; `user` is true
        # only for the webhook account's own plays.
        return Reading(event, ignored="another Plex user's play")
    metadata = _object(data.get("Metadata"))
    episode_ids = []
    for guid in metadata.get("Guid") or []:
        if found := PLEX_GUID.match(_text(_object(guid).get("id"))):
            episode_ids.append((found[1].lower(), found[2]))
    series_ids = []
    if legacy := PLEX_LEGACY_GUID.match(_text(metadata.get("guid"))):
        series_ids.append((PLEX_LEGACY_SERVICE[legacy[1].lower()], legacy[2]))
    return _episode(
        event,
        kind=_text(metadata.get("type")),
        finished=event == "media.scrobble",
        series_title=_text(metadata.get("grandparentTitle")),
        season=metadata.get("parentIndex"),
        number=metadata.get("index"),
        # Metadata.year is the episode's own year, not the show's: left out of the match.
        episode_ids=_ids(episode_ids),
        series_ids=_ids(series_ids),
    )


def read_emby(data: dict) -> Reading:
    """Emby's playback.stop played to completion, or item.markplayed."""
    event = _text(data.get("Event"))
    item = _object(data.get("Item"))
    if event == "playback.stop":
        finished = _truthy(_object(data.get("PlaybackInfo")).get("PlayedToCompletion"))
    elif event == "item.markplayed":
        finished = True
    elif event.startswith("playback.") or event == "item.markunplayed":
        finished = False
    else:
        return Reading(event, ignored="not about watching")
    return _episode(
        event,
        kind=_text(item.get("Type")),
        finished=finished,
        series_title=_text(item.get("SeriesName")),
        season=item.get("ParentIndexNumber"),
        number=item.get("IndexNumber"),
        # An episode's ProductionYear is its own air year, not the show's: left out of the match.
        episode_ids=_provider_ids(item),
    )


READERS = {"jellyfin": read_jellyfin, "plex": read_plex, "emby": read_emby}
