"""Threads on episodes and in watch parties, ratings, and the writer's own posts."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from companion.http import AuthenticatedHttpRequest, login_required_htmx
from companion.lookups import viewing_of
from companion.viewing import Viewing

from .forms import PostForm, PostReportForm, RatingForm
from .models import Post, PostingRefused, PostReport, Rating
from .threads import Thread

GET_OR_POST = ["GET", "HEAD", "POST"]


# --- Where a thread is, and at which point ---------------------------------------------------------


def episode_thread_of(
    request: AuthenticatedHttpRequest, slug: str, season: int, number: int
) -> Thread:
    """The episode's thread at the viewer's point: a 404 until the point reveals the episode."""
    viewing = viewing_of(request, slug)
    episode = viewing.show.episode_at(season, number)
    if episode is None or not viewing.is_revealed(episode):
        raise Http404("Nothing here.")
    return Thread(viewing, episode=episode)


def show_thread_of(request: AuthenticatedHttpRequest, slug: str) -> Thread:
    """Every episode thread of the show, at the viewer's point: where a post's own actions look."""
    return Thread(viewing_of(request, slug))


def party_thread_of(request: AuthenticatedHttpRequest, pk: int) -> Thread:
    """A party's thread at the party's point; looked up through the viewer's own parties."""
    party = get_object_or_404(request.user.parties.select_related("show"), pk=pk)
    point, _ = party.progress()
    viewing = Viewing.at(party.show, request.user, point)
    return Thread(viewing, party=party)


def thread_of(request: AuthenticatedHttpRequest, slug: str | None, pk: int | None) -> Thread:
    return party_thread_of(request, pk) if pk is not None else show_thread_of(request, slug or "")


def thread_context(thread: Thread, request: AuthenticatedHttpRequest, **extra) -> dict:
    """What a thread shows: a page of posts, the rating, the form to write."""
    after = None
    if public_id := request.GET.get("after", ""):
        after = thread.post_or_404(public_id)
    posts, more_after = thread.page(after)
    context = {
        "show": thread.viewing.show,
        "viewing": thread.viewing,
        "thread": thread,
        "posts": posts,
        "more_after": more_after,
        "first_page": after is None,
        "form": PostForm(thread=thread),
        **extra,
    }
    if thread.episode is not None:
        context["rating"] = Rating.objects.summary(thread.episode, request.user)
        context["rating_form"] = RatingForm(initial={"stars": context["rating"]["mine"]})
    return context


def thread_response(request: AuthenticatedHttpRequest, thread: Thread, **extra) -> HttpResponse:
    context = thread_context(thread, request, **extra)
    if request.htmx:
        return render(request, "discussion/thread.html#thread", context)
    return render(request, "discussion/thread.html", context)


# --- Reading and writing ---------------------------------------------------------------------------


@require_http_methods(GET_OR_POST)
@login_required_htmx
def episode_thread(
    request: AuthenticatedHttpRequest, slug: str, season: int, number: int
) -> HttpResponse:
    """An episode's discussion, for viewers whose point reveals it; a post or reply to it."""
    return read_or_write(request, episode_thread_of(request, slug, season, number))


@require_http_methods(GET_OR_POST)
@login_required_htmx
def party_thread(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A watch party's own discussion, at the point of its member furthest behind."""
    return read_or_write(request, party_thread_of(request, pk))


def read_or_write(request: AuthenticatedHttpRequest, thread: Thread) -> HttpResponse:
    if request.method != "POST":
        return thread_response(request, thread)
    form = PostForm(request.POST, thread=thread)
    if form.is_valid():
        replying = form.cleaned_data["reply_to"]
        parent = thread.post_or_404(replying) if replying else None
        if parent is not None and parent.parent_id is not None:
            # One level of replies: an answer to a reply joins the post it answers.
            parent = parent.parent
        episode = thread.writing_episode
        assert episode is not None  # the form checked it
        try:
            post = Post.objects.write(
                author=request.user,
                episode=parent.episode if parent else episode,
                text=form.cleaned_data["text"],
                parent=parent,
                party=thread.party,
            )
        except PostingRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            messages.success(request, "Posted.")
            if not request.htmx:
                return HttpResponseRedirect(f"{thread.url}#post-{post.public_id}")
            context = thread_context(thread, request)
            return render(request, "discussion/thread.html#thread-response", context)
    # The form with its errors, in place of the empty one.
    if request.htmx:
        return render(
            request,
            "discussion/thread.html#thread",
            thread_context(thread, request) | {"form": form},
        )
    return render(
        request, "discussion/thread.html", thread_context(thread, request) | {"form": form}
    )


@require_POST
@login_required_htmx
def rate(request: AuthenticatedHttpRequest, slug: str, season: int, number: int) -> HttpResponse:
    """Rate an episode the viewer's point reveals, 1 to 5."""
    thread = episode_thread_of(request, slug, season, number)
    assert thread.episode is not None
    form = RatingForm(request.POST)
    if form.is_valid():
        Rating.objects.rate(
            user=request.user, episode=thread.episode, stars=form.cleaned_data["stars"]
        )
        messages.success(request, "Rating saved.")
    else:
        messages.error(request, "Pick from 1 to 5 stars.")
    if not request.htmx:
        return HttpResponseRedirect(f"{thread.url}#rating")
    context = {
        "thread": thread,
        "rating": Rating.objects.summary(thread.episode, request.user),
        "rating_form": form if not form.is_valid() else RatingForm(initial=form.cleaned_data),
    }
    return render(request, "discussion/thread.html#rating-response", context)


# --- A writer's own posts, and reports -------------------------------------------------------------


def back_to(post: Post, thread: Thread) -> str:
    if thread.party is not None:
        return thread.url
    return Thread(thread.viewing, episode=post.episode).url


def own_post_or_404(
    request: AuthenticatedHttpRequest, public_id: str, slug: str | None, pk: int | None
) -> tuple[Thread, Post]:
    """The viewer's own post in this thread; anyone else's is the same 404 as a missing one."""
    thread = thread_of(request, slug, pk)
    post = thread.post_or_404(public_id)
    if post.author_id != request.user.pk:
        raise Http404("Nothing here.")
    return thread, post


@require_http_methods(GET_OR_POST)
@login_required_htmx
def edit_post(
    request: AuthenticatedHttpRequest,
    public_id: str,
    slug: str | None = None,
    pk: int | None = None,
) -> HttpResponse:
    thread, post = own_post_or_404(request, public_id, slug, pk)
    shown = thread.shown(post, thread.spoiled_episodes([post]))
    here = Thread(thread.viewing, episode=post.episode, party=thread.party)
    form: PostForm | None = PostForm(
        request.POST or None, thread=here, replying=False, initial={"text": post.text}
    )
    if not shown.whole:
        # It marks a spoiler the writer's point no longer reaches: they may delete it, not read it back.
        form = None
    elif request.method == "POST" and form is not None and form.is_valid():
        post.text = form.cleaned_data["text"]
        post.edited_at = timezone.now()
        post.save(update_fields=["text", "edited_at", "reveal_at"])
        messages.success(request, "Post updated.")
        return HttpResponseRedirect(f"{back_to(post, thread)}#post-{post.public_id}")
    context = {"show": thread.viewing.show, "viewing": thread.viewing, "shown": shown, "form": form}
    return render(request, "discussion/edit.html", context)


@require_POST
@login_required_htmx
def delete_post(
    request: AuthenticatedHttpRequest,
    public_id: str,
    slug: str | None = None,
    pk: int | None = None,
) -> HttpResponse:
    thread, post = own_post_or_404(request, public_id, slug, pk)
    back = back_to(post, thread)
    post.delete()
    messages.info(request, "Post deleted. Replies to it stay, as posts of their own.")
    return HttpResponseRedirect(back)


@require_http_methods(GET_OR_POST)
@login_required_htmx
def report_post(
    request: AuthenticatedHttpRequest,
    public_id: str,
    slug: str | None = None,
    pk: int | None = None,
) -> HttpResponse:
    """Flag a post that spoiled something: the reporter sees it no more, editors get it."""
    thread = thread_of(request, slug, pk)
    post = thread.post_or_404(public_id)
    shown = thread.shown(post, thread.spoiled_episodes([post]))
    form = PostReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        back = back_to(post, thread)
        PostReport.objects.get_or_create(
            post=post,
            reporter=request.user,
            defaults={
                "reporter_safe_point": thread.point.episode or post.reveal_at,
                "message": form.cleaned_data["message"],
            },
        )
        messages.success(
            request, "Thank you. The post is hidden from you; an editor will look at it."
        )
        return HttpResponseRedirect(back)
    context = {"show": thread.viewing.show, "viewing": thread.viewing, "shown": shown, "form": form}
    return render(request, "discussion/report.html", context)
