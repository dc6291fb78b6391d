"""A thread as one reader sees it: its point, its posts through the rule, their spoiler parts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, cast

from django.db.models import Q
from django.http import Http404
from django.urls import reverse

from companion.models import Episode, Party, SafePoint, early_mentions, is_revealed
from companion.viewing import Viewing

from .markup import MarkupError, Part, codes_in, parse
from .models import Post

POSTS_PER_PAGE = 50
FIRST_MARK = re.compile(r"\[/?spoiler", re.IGNORECASE)


@dataclass
class Thread:
    """An episode's own thread, or a watch party's, read at one point: the viewer's, or the
    party's (its member furthest behind)."""

    viewing: Viewing
    episode: Episode | None = None
    party: Party | None = None

    @property
    def point(self) -> SafePoint:
        return self.viewing.safe_point

    @property
    def url(self) -> str:
        if self.party is not None:
            return reverse("party-thread", args=[self.party.pk])
        assert self.episode is not None
        return reverse("episode-thread", args=self.episode._url_args)

    @property
    def writing_episode(self) -> Episode | None:
        """What a new post here is about: the episode, or in a party the party's point."""
        return self.episode if self.episode is not None else self.point.episode

    def posts(self):
        """Every post the reader may read here (the only way posts are read)."""
        posts = Post.objects.readable_at(self.point, self.viewing.user)
        if self.party is not None:
            return posts.filter(party=self.party)
        return posts.in_thread(episode=self.episode)

    def post_or_404(self, public_id: str) -> Post:
        """One readable post of this thread; the same 404 for a hidden post as for a missing one."""
        found = self.posts().filter(public_id=public_id).select_related("author", "episode__show")
        post = found.first()
        if post is None:
            raise Http404("Nothing here.")
        return post

    @property
    def rate_url(self) -> str:
        assert self.episode is not None
        return reverse("episode-rate", args=self.episode._url_args)

    def action_url(self, post: Post, action: str) -> str:
        if self.party is not None:
            return reverse(f"party-post-{action}", args=[self.party.pk, post.public_id])
        return reverse(f"post-{action}", args=[self.viewing.show.slug, post.public_id])

    def page(self, after: Post | None = None) -> tuple[list[ShownPost], str]:
        """Up to a page of top-level posts, oldest first (after `after`), with their replies, and
        the public id to continue after when more follow. Three queries however long the thread."""
        top = self.posts().filter(parent__isnull=True).select_related("author", "episode__show")
        if after is not None:
            top = top.filter(
                Q(created_at__gt=after.created_at)
                | Q(created_at=after.created_at, public_id__gt=after.public_id)
            )
        found = list(top.order_by("created_at", "public_id")[: POSTS_PER_PAGE + 1])
        shown = found[:POSTS_PER_PAGE]
        replies: dict[int, list[Post]] = {post.pk: [] for post in shown}
        if shown:
            for reply in (
                self.posts()
                .filter(parent__in=[post.pk for post in shown])
                .select_related("author", "episode__show")
                .order_by("created_at", "public_id")
            ):
                replies[reply.parent_id or 0].append(reply)
        every = [*shown, *(reply for post in shown for reply in replies[post.pk])]
        episodes = self.spoiled_episodes(every)
        page = [
            self.shown(post, episodes, [self.shown(r, episodes) for r in replies[post.pk]])
            for post in shown
        ]
        return page, (shown[-1].public_id if len(found) > POSTS_PER_PAGE else "")

    def spoiled_episodes(self, posts: list[Post]) -> dict[tuple[int, int], Episode]:
        codes = {code for post in posts for code in codes_in(post.text)}
        return spoiled_episodes(self.viewing.show.pk, codes)

    def shown(
        self,
        post: Post,
        episodes: dict[tuple[int, int], Episode],
        replies: list[ShownPost] | None = None,
    ) -> ShownPost:
        """What the reader receives of one post."""
        parts, whole = shown_parts(post.text, episodes, self.point)
        return ShownPost(
            post=post,
            parts=parts,
            whole=whole,
            mine=post.author_id == getattr(self.viewing.user, "pk", None),
            replies=replies or [],
            edit_url=self.action_url(post, "edit"),
            delete_url=self.action_url(post, "delete"),
            report_url=self.action_url(post, "report"),
        )


@dataclass(frozen=True)
class ShownPart:
    text: str
    # The episode a shown spoiler span spoils up to ("S4E10"); empty for plain text.
    spoils: str = ""


@dataclass
class ShownPost:
    """A post as one reader receives it: its parts the point reveals, never the others."""

    post: Post
    parts: list[ShownPart]
    # False when a spoiler span was left out: its writer may delete it, not edit it blind.
    whole: bool
    mine: bool
    replies: list[ShownPost]
    edit_url: str
    delete_url: str
    report_url: str


def spoiled_episodes(show_id: int, codes: set[tuple[int, int]]) -> dict[tuple[int, int], Episode]:
    """The show's episodes that spoiler marks name, by (season, number)."""
    if not codes:
        return {}
    named = Q(pk__in=[])
    for season, number in sorted(codes):
        named |= Q(season_number=season, number=number)
    found = Episode.objects.filter(named, show_id=show_id).select_related("show")
    return {(e.season_number, e.number): e for e in found}


def shown_parts(
    text: str, episodes: dict[tuple[int, int], Episode], point: SafePoint
) -> tuple[list[ShownPart], bool]:
    """What a reader at the point receives of a post's text, and whether that is all of it.

    A span marked for an episode the point does not reveal (or no episode at all) is left out
    whole: not its text, not a placeholder. A text whose marks are broken (an editor's edit)
    is shown up to the first mark only.
    """
    try:
        parts = parse(text)
    except MarkupError:
        first_mark = FIRST_MARK.search(text)
        head = text[: first_mark.start()] if first_mark else ""
        return ([ShownPart(head)] if head else []), False
    shown, whole = [], True
    for part in parts:
        if part.up_to is None:
            shown.append(ShownPart(part.text))
            continue
        episode = episodes.get(part.up_to)
        if episode is not None and is_revealed(episode, point):
            shown.append(ShownPart(part.text, episode.short_label))
        else:
            whole = False
    return shown, whole


def unmarked_names(
    parts: list[Part], episodes: dict, about: Episode, point: SafePoint
) -> list[str]:
    """The editors' spoiler check (early_mentions) over a text being written: each name of a
    character who first appears after the part's own point (the post's episode, or a span's)
    but no later than the writer's point. Names past the writer's point are not pointed out:
    that would tell them who is still to come."""
    if point.episode is None:
        return []

    def mentions(text: str, reveal: Episode) -> set[str]:
        stand_in = Post(episode=about, reveal_at=reveal, text=text)
        return set(early_mentions(cast(Any, stand_in)))

    found: list[str] = []
    for part in parts:
        reveal = about if part.up_to is None else episodes[part.up_to]
        for message in sorted(mentions(part.text, reveal) - mentions(part.text, point.episode)):
            # "mentions Ada, who first appears at 1x4; move the reveal to 1x4 or later"
            said, code = message.split(";", 1)[0], message.split(";", 1)[0].rsplit(" ", 1)[-1]
            found.append(
                f"Your post {said}: mark that part as [spoiler {code}]…[/spoiler], or leave the name out."
            )
    return found
