"""The editors' TVmaze search in the admin: find a show by title, queue its import."""

from __future__ import annotations

import ast
import contextlib
import hashlib
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.admin import site
from django.contrib.admin.views.decorators import staff_member_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from django_tasks.base import TaskResult, TaskResultStatus
from django_tasks.exceptions import TaskResultDoesNotExist, TaskResultMismatch

from companion.models import Show

from . import tasks
from .mapping import clean_summary
from .tvmaze import TVmazeNotFound, TVmazeUnavailable

# Paging back and forth through results does not ask TVmaze again.
SEARCH_CACHE_SECONDS = 600


class SearchForm(forms.Form):
    q = forms.CharField(label="Title", max_length=100, strip=True)


class ImportForm(forms.Form):
    tvmaze_id = forms.IntegerField(min_value=1)


def _may_import(request: HttpRequest) -> bool:
    return request.user.has_perms(["companion.add_show", "companion.change_show"])


@dataclass
class Search:
    """Where a search stands: TVmaze's answer, why there is none, or the job still asking."""

    results: list[dict] | None = None
    problem: str = ""
    job: str = ""


def _cache_key(query: str) -> str:
    return "catalogue:tvmaze-search:" + hashlib.sha256(query.casefold().encode()).hexdigest()


def search_tvmaze(query: str, *, job: str = "") -> Search:
    """The search's answer from the cache or from its job; a new job when there is neither.

    TVmaze is asked only by the job (`tasks.search_shows`), never in the editor's request.
    """
    results = cache.get(_cache_key(query))
    if results is not None:
        return Search(results=found_here(results))
    result = None
    if job:
        with contextlib.suppress(TaskResultDoesNotExist, TaskResultMismatch, NotImplementedError):
            result = tasks.search_shows.get_result(job)
        if result is not None and list(result.args) != [query]:
            result = None  # the job of another search: start this one's
    if result is None:
        result = tasks.search_shows.enqueue(query)
    if not result.is_finished:
        return Search(job=result.id)
    if result.status != TaskResultStatus.SUCCESSFUL:
        return Search(problem="The search failed (the task's error is under Tasks). Try again.")
    answer = result.return_value or {}
    if "results" not in answer:
        return Search(problem=answer.get("problem", "TVmaze gave no answer. Try again."))
    cache.set(_cache_key(query), answer["results"], SEARCH_CACHE_SECONDS)
    return Search(results=found_here(answer["results"]))


def found_here(results: list[dict]) -> list[dict]:
    """TVmaze's matches, each with the show here that has its id, if any."""
    here = {
        show.tvmaze_id: show
        for show in Show.objects.filter(
            tvmaze_id__in=[r["show"]["id"] for r in results if r.get("show")]
        )
    }
    found = []
    for result in results:
        show = result.get("show") or {}
        if not show.get("id"):
            continue
        channel = show.get("network") or show.get("webChannel") or {}
        found.append(
            {
                "tvmaze_id": show["id"],
                "name": show.get("name") or "",
                "premiered": show.get("premiered") or "",
                "network": channel.get("name") or "",
                "status": show.get("status") or "",
                "summary": clean_summary(show.get("summary"))[:300],
                "url": show.get("url") or "",
                "here": here.get(show["id"]),
            }
        )
    return found


@staff_member_required
@require_http_methods(["GET", "HEAD"])
def search(request: HttpRequest) -> HttpResponse:
    if not _may_import(request):
        raise PermissionDenied
    form = SearchForm(request.GET or None)
    found = Search()
    if form.is_valid():
        found = search_tvmaze(form.cleaned_data["q"], job=request.GET.get("job", ""))
    context = {
        **site.each_context(request),
        "title": "Add a show from TVmaze",
        "form": form,
        "results": found.results,
        "problem": found.problem,
        "job": found.job,
        "opts": Show._meta,
    }
    return render(request, "admin/catalogue/search.html", context)


@staff_member_required
@require_POST
def start_import(request: HttpRequest) -> HttpResponse:
    if not _may_import(request):
        raise PermissionDenied
    form = ImportForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Pick a show from the search results.")
        return redirect("catalogue-search")
    tvmaze_id = form.cleaned_data["tvmaze_id"]
    result = tasks.import_show.enqueue(tvmaze_id)
    if not result.is_finished:
        messages.success(
            request,
            "The import is queued: the show appears under Shows when it is done, and the "
            "task's progress and any error are under Tasks.",
        )
        return redirect("catalogue-search")
    # The immediate backend (development) has run the import here and now.
    show = Show.objects.filter(tvmaze_id=tvmaze_id).first()
    if result.status == TaskResultStatus.SUCCESSFUL and show is not None:
        messages.success(request, f"{result.return_value}. Review it below.")
        return redirect("admin:companion_show_change", show.pk)
    messages.error(request, f"Nothing was imported: {failure(result)}")
    return redirect("catalogue-search")


# Failures an editor can act on, said in their own words; anything else is a bug for the log.
EXPLAINED = {
    f"{TVmazeUnavailable.__module__}.{TVmazeUnavailable.__name__}",
    f"{TVmazeNotFound.__module__}.{TVmazeNotFound.__name__}",
    "django.core.exceptions.ValidationError",
}


def failure(result: TaskResult) -> str:
    """Why a finished import failed, from its last error."""
    if not result.errors:
        return "the import did not finish."
    error = result.errors[-1]
    if error.exception_class_path not in EXPLAINED:
        return "the import failed (the server log has the details)."
    if error.exception_class_path.endswith("TVmazeNotFound"):
        return "TVmaze has no such show."
    lines = error.traceback.strip().splitlines()
    message = lines[-1].split(": ", 1)[-1] if lines else "the import failed."
    if message.startswith("["):
        # A ValidationError's messages, as its str() lists them.
        with contextlib.suppress(ValueError, SyntaxError):
            message = " ".join(str(m) for m in ast.literal_eval(message))
    return message
