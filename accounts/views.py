import json

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from companion.http import AuthenticatedHttpRequest

from . import history
from .forms import DeleteAccountForm, HistoryImportForm, PreferencesForm, SignupForm


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("show-list")
    form = SignupForm(request.POST or None)
    if form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(
            request, "Welcome! Mark the episodes you have seen and the companion opens up."
        )
        return redirect("show-list")
    return render(request, "registration/signup.html", {"form": form})


@require_http_methods(["GET", "POST"])
@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    form = PreferencesForm(request.POST or None, instance=request.user)
    if form.is_valid():
        form.save()
        messages.success(request, "Preferences saved.")
        return redirect("preferences")
    return render(request, "accounts/preferences.html", {"form": form})


@require_GET
@login_required
def export_data(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Everything we hold about the viewer; episodes by code only, so no unwatched title rides along."""
    user = request.user
    data = {
        "username": user.username,
        "email": user.email,
        "date_joined": user.date_joined.isoformat(),
        "preferences": {
            "hide_unwatched_titles": user.hide_unwatched_titles,
            "hide_unwatched_synopses": user.hide_unwatched_synopses,
        },
        "watched": [
            {
                "show": show_slug,
                "episode": f"{season}x{number}",
                "watched_at": at.isoformat(),
            }
            for show_slug, season, number, at in user.watches.order_by(
                "episode__show__slug", "episode__sequence"
            ).values_list(
                "episode__show__slug", "episode__season_number", "episode__number", "watched_at"
            )
        ],
        "exported_at": timezone.now().isoformat(),
    }
    response = HttpResponse(json.dumps(data, indent=2), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="spoilerfree-{user.username}.json"'
    return response


@require_http_methods(["GET", "POST"])
@login_required
def delete_account(request: HttpRequest) -> HttpResponse:
    form = DeleteAccountForm(request.POST or None, user=request.user)
    if form.is_valid():
        user = request.user
        logout(request)
        user.delete()
        messages.success(request, "Your account and your watch history have been deleted.")
        return redirect("show-list")
    return render(request, "accounts/delete.html", {"form": form})


@require_http_methods(["GET", "POST"])
@login_required
def history_import(request: HttpRequest) -> HttpResponse:
    """Upload a history file; a valid one gets a preview of what would be marked, and nothing is written."""
    if request.method == "GET":
        return render(request, "accounts/history.html", {"form": HistoryImportForm()})
    form = HistoryImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "accounts/history.html", {"form": form})
    preview = history.match(form.cleaned_data["parsed"], user=request.user)
    token = history.sign(preview, user=request.user) if preview.new_count else ""
    return render(request, "accounts/history_preview.html", {"preview": preview, "token": token})


@require_POST
@login_required
def history_confirm(request: HttpRequest) -> HttpResponse:
    try:
        added = history.apply(request.POST.get("token", ""), user=request.user)
    except history.HistoryError as error:
        context = {"form": HistoryImportForm(), "error": str(error)}
        return render(request, "accounts/history.html", context, status=400)
    messages.success(
        request, f"Imported: {added} episode{'' if added == 1 else 's'} marked watched."
    )
    return redirect("history")


@require_GET
@login_required
def history_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The viewer's watches as a download that history_import reads back."""
    if fmt == "trakt.json":
        response = HttpResponse(
            history.export_trakt(request.user), content_type="application/json; charset=utf-8"
        )
    else:
        response = HttpResponse(
            history.export_tvtime(request.user), content_type="text/csv; charset=utf-8"
        )
    response["Content-Disposition"] = f'attachment; filename="spoilerfree-history-{fmt}"'
    return response
