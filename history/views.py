import uuid

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from companion.http import AuthenticatedHttpRequest

from . import exports, matching, tasks
from .forms import ConfirmImportForm, HistoryImportForm
from .models import HistoryImport
from .parsers import HistoryError


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def history_import(request: HttpRequest) -> HttpResponse:
    """Upload export files; valid ones get a preview of what would be marked, and nothing is written."""
    if request.method != "POST":
        return render(request, "history/import.html", {"form": HistoryImportForm()})
    form = HistoryImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "history/import.html", {"form": form})
    preview = matching.match(form.cleaned_data["parsed"], user=request.user)
    confirm = (
        ConfirmImportForm(initial={"token": matching.sign(preview, user=request.user)})
        if preview.new_count
        else None
    )
    return render(request, "history/preview.html", {"preview": preview, "confirm": confirm})


@require_POST
@login_required
def history_confirm(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Queue the confirmed preview; a large history is marked by a job, not in this request."""
    form = ConfirmImportForm(request.POST)
    try:
        if not form.is_valid():
            raise HistoryError("This confirmation was empty, so nothing was imported.")
        watches = matching.unsign(form.cleaned_data["token"], user=request.user)
    except HistoryError as error:
        context = {"form": HistoryImportForm(), "error": str(error)}
        return render(request, "history/import.html", context, status=400)
    with transaction.atomic():  # an import is queued with its job or not at all
        job = HistoryImport.objects.queue(user=request.user, watches=watches)
        tasks.apply_import.enqueue(str(job.pk))
    return redirect("history-import-status", job.pk)


@require_safe
@login_required
def history_import_status(request: AuthenticatedHttpRequest, pk: uuid.UUID) -> HttpResponse:
    """Where a queued import stands; the page asks again every few seconds until it is done."""
    job = get_object_or_404(request.user.history_imports, pk=pk)
    template = "history/status.html#status" if request.htmx else "history/status.html"
    return render(request, template, {"job": job})


@require_safe
@login_required
def history_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The viewer's watches as a download that history_import reads back."""
    if fmt == "trakt.json":
        body, content_type = exports.export_trakt(request.user), "application/json; charset=utf-8"
    else:
        body, content_type = exports.export_tvtime(request.user), "text/csv; charset=utf-8"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="spoilerfree-history-{fmt}"'
    return response


@require_POST
def old_confirm(request: HttpRequest) -> HttpResponse:
    """A preview made before the move confirms at the new address: a 308 keeps the POST."""
    return HttpResponsePermanentRedirect(reverse("history-confirm"), preserve_request=True)
