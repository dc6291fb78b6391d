"""Under /api/ every answer is JSON, errors included; the docs page works under the CSP."""

import re
from unittest import mock

import pytest
from django.test import Client

API = "/api/v1"


def assert_json_error(response, status: int) -> None:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"]


@pytest.mark.parametrize("htmx", [False, True])
def test_unknown_api_url_is_a_json_404(alice_api, show, htmx):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    for path in ("/api/v1/nope/", "/api/v2/shows/", "/api/v1/shows/saga/episodes/1/x/"):
        assert_json_error(alice_api.get(path, **headers), 404)


def test_wrong_method_is_a_json_405(alice_api, show):
    response = alice_api.get(f"{API}/shows/saga/episodes/1/1/watched/")
    assert_json_error(response, 405)
    assert "POST" in response["Allow"]
    assert_json_error(alice_api.put(f"{API}/shows/"), 405)


def test_a_crash_is_a_json_500(alice_token, show):
    client = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {alice_token}")
    with mock.patch("api.api.progress_for", side_effect=RuntimeError("boom")):
        response = client.get(f"{API}/shows/")
    assert_json_error(response, 500)
    assert b"boom" not in response.content


def test_out_of_range_numbers_are_refused_not_crashed(alice_api, show):
    assert_json_error(alice_api.get(f"{API}/shows/saga/episodes/1/99999999999999999999/"), 422)
    assert_json_error(alice_api.get(f"{API}/shows/", {"offset": 10**30}), 422)


def test_openapi_schema_is_served(client, db):
    schema = client.get(f"{API}/openapi.json").json()
    assert schema["info"]["title"] == "Spoilerfree API"
    assert f"{API}/shows/{{slug}}/progress/" in schema["paths"]
    assert "BearerToken" in schema["components"]["securitySchemes"]


def test_docs_page_lists_endpoints_with_no_inline_script_or_style(client, db):
    response = client.get(f"{API}/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/api/v1/shows/{slug}/characters/{public_id}/" in html
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline script"
    assert "<style" not in html and " style=" not in html
    assert not re.search(r"\son[a-z]+=", html), "inline handler"
    assert not re.search(r'(src|href)="https?://', html), "assets from elsewhere"
