"""The discussion in the JSON API: an episode's thread, posting, a writer's own posts, ratings.

Every endpoint starts from the viewer's point (`viewing_of`) and reads posts only through
`Thread.posts` (`Post.objects.readable_at`): an unrevealed episode's thread and a hidden post are
the same 404 as missing ones, and a spoiler span past the point is left out whole.
"""

from __future__ import annotations

import datetime as dt

from django.http import Http404, HttpResponse
from ninja import Field, Path, Query, Router, Schema, Status

from api.api import EPISODE, ERRORS, ApiRequest, answers
from companion.lookups import episode_or_404, viewing_of
from companion.models import MAX_NUMBER

from .forms import PostForm
from .models import MAX_POST_LENGTH, Post, PostingRefused, Rating
from .threads import ShownPost, Thread

router = Router(tags=["discussion"])
# As api.api's: declared here too, since that module imports this one while it is being built.
Season = Path(..., ge=0, le=MAX_NUMBER, description="The season number; 0 holds the specials.")
Number = Path(..., ge=1, le=MAX_NUMBER, description="The episode's number in its season.")


class PartOut(Schema):
    text: str
    spoils_up_to: str | None = Field(
        description="For a spoiler span: the episode it spoils up to. Spans past the viewer's "
        "point are not sent at all."
    )


class PostOut(Schema):
    id: str = Field(description="The post's public id.")
    episode: str
    author: str = Field(description="The writer's display name.")
    created_at: dt.datetime
    edited_at: dt.datetime | None
    parts: list[PartOut]
    mine: bool
    editable: bool = Field(description="The viewer's own post, every part of it shown to them.")


class TopPostOut(PostOut):
    replies: list[PostOut]


class RatingOut(Schema):
    average: float | None
    count: int
    mine: int | None = Field(description="The viewer's own stars, if they rated it.")


class ThreadOut(Schema):
    episode: str
    rating: RatingOut
    items: list[TopPostOut] = Field(description="Top-level posts, oldest first, with replies.")
    next_after: str | None = Field(description="Pass as `after` for the posts that follow.")


class PostIn(Schema):
    text: str = Field(min_length=1, max_length=MAX_POST_LENGTH)
    reply_to: str | None = Field(None, max_length=22, description="The post answered, if any.")


class PostEdit(Schema):
    text: str = Field(min_length=1, max_length=MAX_POST_LENGTH)


class RatingIn(Schema):
    stars: int = Field(ge=1, le=5)


def post_out(shown: ShownPost, *, replies: bool = False) -> dict:
    post = shown.post
    out = {
        "id": post.public_id,
        "episode": post.episode.code,
        "author": post.author.shown_name,
        "created_at": post.created_at,
        "edited_at": post.edited_at,
        "parts": [{"text": p.text, "spoils_up_to": p.spoils or None} for p in shown.parts],
        "mine": shown.mine,
        "editable": shown.mine and shown.whole,
    }
    if replies:
        out["replies"] = [post_out(reply) for reply in shown.replies]
    return out


def episode_thread_at(request: ApiRequest, slug: str, season: int, number: int) -> Thread:
    viewing = viewing_of(request, slug)
    episode = episode_or_404(viewing.show, season, number)
    if not viewing.is_revealed(episode):
        raise Http404
    return Thread(viewing, episode=episode)


def one_post(request: ApiRequest, slug: str, public_id: str) -> tuple[Thread, ShownPost]:
    thread = Thread(viewing_of(request, slug))
    post = thread.post_or_404(public_id)
    return thread, thread.shown(post, thread.spoiled_episodes([post]))


def form_errors(form: PostForm) -> Status:
    return Status(
        422,
        {
            "detail": [
                {"loc": ["body", field], "msg": str(message)}
                for field, messages in form.errors.items()
                for message in messages
            ]
        },
    )


@router.get(f"{EPISODE}posts/", response=answers(ThreadOut))
def thread(
    request: ApiRequest,
    slug: str,
    season: int = Season,
    number: int = Number,
    after: str = Query("", max_length=22),
):
    """An episode's thread and rating, for a viewer whose point reveals the episode."""
    thread = episode_thread_at(request, slug, season, number)
    assert thread.episode is not None
    posts, more_after = thread.page(thread.post_or_404(after) if after else None)
    return {
        "episode": thread.episode.code,
        "rating": Rating.objects.summary(thread.episode, request.user),
        "items": [post_out(shown, replies=True) for shown in posts],
        "next_after": more_after or None,
    }


@router.post(f"{EPISODE}posts/", response=answers(PostOut, 201))
def write(request: ApiRequest, data: PostIn, slug: str, season: int = Season, number: int = Number):
    """Post on an episode the viewer has watched to, or reply to a post in its thread."""
    thread = episode_thread_at(request, slug, season, number)
    form = PostForm({"text": data.text, "reply_to": data.reply_to or ""}, thread=thread)
    if not form.is_valid():
        return form_errors(form)
    parent = thread.post_or_404(data.reply_to) if data.reply_to else None
    if parent is not None and parent.parent is not None:
        parent = parent.parent
    assert thread.episode is not None
    try:
        post = Post.objects.write(
            author=request.user,
            episode=thread.episode,
            text=form.cleaned_data["text"],
            parent=parent,
        )
    except PostingRefused as refusal:
        return Status(429, {"detail": str(refusal)})
    return Status(201, post_out(thread.shown(post, thread.spoiled_episodes([post]))))


@router.get("/shows/{slug:slug}/posts/{slug:public_id}/", response=answers(PostOut))
def post_detail(request: ApiRequest, slug: str, public_id: str):
    """One post of an episode thread, as the viewer's point lets it through."""
    return post_out(one_post(request, slug, public_id)[1])


@router.put("/shows/{slug:slug}/posts/{slug:public_id}/", response=answers(PostOut))
def edit(request: ApiRequest, data: PostEdit, slug: str, public_id: str):
    """Change the text of one of the viewer's own posts."""
    thread, shown = one_post(request, slug, public_id)
    post = shown.post
    if not (shown.mine and shown.whole):
        raise Http404
    form = PostForm(
        {"text": data.text}, thread=Thread(thread.viewing, episode=post.episode), replying=False
    )
    if not form.is_valid():
        return form_errors(form)
    post.text = form.cleaned_data["text"]
    post.edited_at = dt.datetime.now(tz=dt.UTC)
    post.save(update_fields=["text", "edited_at", "reveal_at"])
    return post_out(thread.shown(post, thread.spoiled_episodes([post])))


@router.delete(
    "/shows/{slug:slug}/posts/{slug:public_id}/",
    response={204: None, **ERRORS},
)
def delete(request: ApiRequest, slug: str, public_id: str):
    """Delete one of the viewer's own posts; replies to it stay, as posts of their own."""
    _, shown = one_post(request, slug, public_id)
    if not shown.mine:
        raise Http404
    shown.post.delete()
    return HttpResponse(status=204)


@router.get(f"{EPISODE}rating/", response=answers(RatingOut))
def rating(request: ApiRequest, slug: str, season: int = Season, number: int = Number):
    """The episode's average and count, and the viewer's own stars, once it is revealed to them."""
    thread = episode_thread_at(request, slug, season, number)
    assert thread.episode is not None
    return Rating.objects.summary(thread.episode, request.user)


@router.put(f"{EPISODE}rating/", response=answers(RatingOut))
def rate(
    request: ApiRequest, data: RatingIn, slug: str, season: int = Season, number: int = Number
):
    """Rate an episode the viewer has watched to, 1 to 5 stars (again replaces it)."""
    thread = episode_thread_at(request, slug, season, number)
    assert thread.episode is not None
    Rating.objects.rate(user=request.user, episode=thread.episode, stars=data.stars)
    return Rating.objects.summary(thread.episode, request.user)
