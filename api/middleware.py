"""Under /api/ every error is JSON with a message, even the ones raised outside the API's views."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse

from config.middleware import ERROR_MESSAGES, is_json

API_PREFIX = "/api/"
SERVER_ERROR = "Something went wrong on our side. Nothing was changed; try again later."


def json_error(status: int, message: str) -> HttpResponse:
    return HttpResponse(
        json.dumps({"detail": message}), status=status, content_type="application/json"
    )


class JsonErrorsMiddleware:
    """Turns Django's HTML answers under /api/ (unknown URL, wrong method, crash) into JSON.

    It sits inside FriendlyErrorsMiddleware, which leaves JSON alone. A crash in a view has
    already become Django's 500 response by the time it gets here, so that is replaced too.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        response = self.get_response(request)
        if (
            not request.path.startswith(API_PREFIX)
            or response.status_code < 400
            or response.streaming
            or is_json(response)
        ):
            return response
        status = response.status_code
        message = SERVER_ERROR if status >= 500 else ERROR_MESSAGES.get(status, "Request refused.")
        replacement = json_error(status, message)
        for header in ("Allow", "Retry-After"):
            if header in response:
                replacement[header] = response[header]
        return replacement
