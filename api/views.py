"""The viewer's personal tokens, and the API's docs page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from companion.http import AuthenticatedHttpRequest

from .api import api
from .forms import TokenForm
from .models import ApiToken

METHODS = ("get", "post", "put", "patch", "delete")


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def tokens(request: AuthenticatedHttpRequest) -> HttpResponse:
    """List, name and create tokens; a new token is in this response only, never stored."""
    form = TokenForm(request.POST or None, user=request.user)
    new_token = None
    if request.method == "POST" and form.is_valid():
        token, new_token = ApiToken.objects.issue(user=request.user, name=form.cleaned_data["name"])
        form = TokenForm(user=request.user)
    context = {"form": form, "tokens": request.user.api_tokens.all(), "new_token": new_token}
    return render(request, "api/tokens.html", context)


@require_POST
@login_required
def revoke_token(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    # Through the viewer's own tokens: someone else's is a 404.
    token = get_object_or_404(request.user.api_tokens, pk=pk)
    if not token.revoked:
        token.revoked = True
        token.save(update_fields=["revoked"])
        messages.success(request, f"Revoked “{token.name}”. Apps using it can no longer sign in.")
    return redirect("api-tokens")


@require_safe
def docs(request: HttpRequest) -> HttpResponse:
    """The endpoints, rendered on the server from the OpenAPI schema: no script, so the CSP holds."""
    schema = api.get_openapi_schema(path_prefix="/api/v1")
    endpoints = [
        {
            "method": method.upper(),
            "path": path,
            "summary": operation.get("summary", ""),
            "description": operation.get("description", ""),
            "parameters": [
                p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"
            ],
        }
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if method in METHODS
    ]
    return render(request, "api/docs.html", {"endpoints": endpoints, "schema": schema})
