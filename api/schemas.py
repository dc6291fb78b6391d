"""What the API sends: gated things by public id only, episodes by code, never a database key."""

from __future__ import annotations

import datetime as dt
from typing import Generic, TypeVar

from ninja import Field, Schema

T = TypeVar("T")


def absolute(context, url: str) -> str | None:
    """An image's URL as an app can fetch it (with scheme and host), or None for none."""
    return context["request"].build_absolute_uri(url) if url else None


class Message(Schema):
    detail: str


class ValidationMessage(Schema):
    detail: list[dict]


class PageParams(Schema):
    limit: int = Field(50, ge=1, le=200, description="How many items, at most 200.")
    offset: int = Field(0, ge=0, le=1_000_000, description="How many items to skip.")


class Page(Schema, Generic[T]):
    count: int = Field(description="How many items there are in all, at the viewer's point.")
    limit: int
    offset: int
    items: list[T]


class ProgressCounts(Schema):
    watched: int
    total: int
    percent: int


class ShowIds(Schema):
    """The show's ids at other services; "" (TVmaze: null) where we have none."""

    tvmaze: int | None
    tvdb: str
    imdb: str
    tmdb: str
    trakt: str


class EpisodeIds(Schema):
    tvmaze: int | None
    tvdb: str
    imdb: str
    tmdb: str


class ShowOut(Schema):
    slug: str
    title: str
    network: str
    premise: str
    safe_point: str | None = Field(description="The episode code the viewer is safe up to.")
    progress: ProgressCounts
    ids: ShowIds
    poster: str | None = Field(description="The show's poster (200x300 JPEG), if it has one.")

    @staticmethod
    def resolve_poster(show, context) -> str | None:
        return absolute(context, show["poster"])


class EpisodeOut(Schema):
    """An episode; its title and synopsis follow the viewer's preferences until it is revealed."""

    code: str
    season: int = Field(alias="season_number")
    number: int
    special: bool = Field(alias="is_special")
    title: str = Field(alias="shown_title")
    title_hidden: bool
    synopsis: str = Field(alias="shown_synopsis")
    air_date: dt.date | None
    revealed: bool
    watched: bool
    ids: EpisodeIds
    still: str | None = Field(
        description="The episode's still (640x360 JPEG): only once the episode is revealed to "
        "the viewer, and then only if it has one. Never anything of a hidden episode."
    )

    @staticmethod
    def resolve_still(episode, context) -> str | None:
        return absolute(context, episode.shown_still)

    @staticmethod
    def resolve_ids(episode) -> dict:
        return {
            "tvmaze": episode.tvmaze_id,
            "tvdb": episode.tvdb_id,
            "imdb": episode.imdb_id,
            "tmdb": episode.tmdb_id,
        }


class StateOut(Schema):
    public_id: str
    as_of: str
    status: str
    location: str
    affiliation: str
    description: str

    @staticmethod
    def resolve_as_of(state) -> str:
        return state.reveal_at.code


class CharacterOut(Schema):
    public_id: str
    name: str
    actor: str
    first_appearance: str
    first_appearance_exact: bool
    state: StateOut | None = Field(description="Where they stand at the viewer's point.")
    photo: str | None = Field(description="The actor's photo (160x160 JPEG), if there is one.")

    @staticmethod
    def resolve_photo(character, context) -> str | None:
        return absolute(context, character.photo_url)

    @staticmethod
    def resolve_first_appearance(character) -> str:
        return character.first_appearance.code

    @staticmethod
    def resolve_state(character) -> object:
        return character.latest_state


class CharacterBrief(Schema):
    public_id: str
    name: str
    actor: str


class CharacterDetailOut(CharacterOut):
    timeline: list[StateOut] = Field(
        description="Their states up to the viewer's point, oldest first."
    )

    @staticmethod
    def resolve_timeline(character) -> list:
        return character.safe_states


class StateWithCharacterOut(StateOut):
    character: CharacterBrief


class RecapOut(Schema):
    public_id: str
    episode: str
    text: str

    @staticmethod
    def resolve_episode(recap) -> str:
        return recap.episode.code


class NoteOut(Schema):
    public_id: str
    episode: str = Field(description="The episode the note discusses.")
    text: str
    outlet: str
    author: str
    article_title: str

    @staticmethod
    def resolve_episode(note) -> str:
        return note.episode.code


class EpisodeDetailOut(Schema):
    episode: EpisodeOut
    recap: RecapOut | None
    notes: list[NoteOut]
    debuts: list[CharacterBrief] = Field(description="Characters who first appear here.")
    state_changes: list[StateWithCharacterOut]


class ProgressOut(Schema):
    show: str
    safe_point: str | None = Field(description="The last episode of the unbroken watched run.")
    watched: list[str] = Field(description="Codes of every episode watched, in story order.")
    gap: str | None = Field(description="The first unwatched episode when a later one is watched.")
    up_next: EpisodeOut | None
    progress: ProgressCounts


class FollowedShowOut(ShowOut):
    up_next: EpisodeOut | None = Field(description="The first regular episode past the safe point.")


class FollowOut(Schema):
    show: str
    following: bool


class MarkedUpToOut(Schema):
    added: int = Field(description="How many episodes were newly marked.")
    progress: ProgressOut


class SearchOut(Schema):
    query: str
    characters: list[CharacterBrief]
    episodes: list[EpisodeOut]
    recaps: list[RecapOut]
    notes: list[NoteOut]
    states: list[StateWithCharacterOut]


class ShowPage(Page[ShowOut]):
    pass


class FollowedShowPage(Page[FollowedShowOut]):
    pass


class EpisodePage(Page[EpisodeOut]):
    pass


class RecapPage(Page[RecapOut]):
    pass


class CharacterPage(Page[CharacterOut]):
    pass


class NotePage(Page[NoteOut]):
    pass
