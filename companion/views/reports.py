"""Viewers' spoiler reports on content they can see."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from ..forms import (
    ReportForm,
)
from ..http import (
    AuthenticatedHttpRequest,
    login_required_htmx,
)
from ..lookups import viewing_of, visible_or_404
from ..models import (
    SpoilerReport,
)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required_htmx
def report_spoiler(
    request: AuthenticatedHttpRequest, slug: str, kind: str, public_id: str
) -> HttpResponse:
    # The show and the viewer's point come first, then the lookup through what they can see: a
    # hidden item and a missing one run the same queries and get the same 404.
    viewing = viewing_of(request, slug)
    model = SpoilerReport.MODELS.get(kind)
    if model is None:
        raise Http404("Nothing here.")
    content = visible_or_404(model.objects.visible_at(viewing.safe_point), public_id=public_id)
    form = ReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        SpoilerReport.objects.create(
            reporter=request.user,
            kind=kind,
            **{kind: content},
            reporter_safe_point=viewing.safe_point.episode or content.reveal_at,
            message=form.cleaned_data["message"],
        )
        messages.success(
            request, "Thank you. An editor will look at it and move it later if it spoils."
        )
        return redirect(viewing.show.get_absolute_url())
    context = {
        "show": viewing.show,
        "viewing": viewing,
        "content": content,
        "kind": kind,
        "form": form,
    }
    return render(request, "companion/report.html", context)
