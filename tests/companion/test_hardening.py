"""Bad input, web security settings and channels other than pages."""

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from companion.models import Watch
from config.middleware import ERROR_MESSAGES
from tests.helpers import HTMX

ROOT = Path(__file__).resolve().parent.parent.parent


def watched(user):
    # Episodes as season * 1000 + number, so failures read as codes.
    return sorted(
        season * 1000 + number
        for season, number in Watch.objects.filter(user=user).values_list(
            "episode__season_number", "episode__number"
        )
    )


def test_wrong_method_gets_a_friendly_page(alice_client):
    response = alice_client.get("/shows/saga/s1/e4/watch/")
    assert response.status_code == 405
    assert "cannot be used this way" in response.content.decode()


def test_wrong_method_from_htmx_gets_a_short_fragment_in_the_message_area(alice_client):
    response = alice_client.get("/shows/saga/s1/e4/watch/", **HTMX)
    assert response.status_code == 405
    assert response.content.decode().strip().startswith('<p class="message error"')
    assert response["HX-Retarget"] == "#messages"


@pytest.mark.parametrize(
    ("status", "url"),
    [
        (404, reverse("episode-detail", args=["saga", 7, 1])),
        (405, reverse("episode-watch", args=["saga", 1, 4])),
    ],
)
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_error_pages_and_fragments_say_the_same(alice_client, status, url, headers):
    response = alice_client.get(url, **headers)
    assert response.status_code == status
    assert ERROR_MESSAGES[status] in response.content.decode()


def test_htmx_404_is_a_fragment_not_a_page(alice_client):
    response = alice_client.post("/shows/saga/s7/e1/watch/", **HTMX)
    assert response.status_code == 404
    assert "<html" not in response.content.decode()


def test_missing_csrf_token_gets_a_clear_page_and_changes_nothing(alice, show):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post("/shows/saga/s2/e5/watch-up-to/")
    assert response.status_code == 403
    assert "nothing was changed" in response.content.decode()
    assert watched(alice) == [1001, 1002, 1003]


def test_oversized_post_is_rejected_and_changes_nothing(alice_client, alice):
    response = alice_client.post(
        "/shows/saga/s2/e5/watch-up-to/", {"padding": "x" * (2 * 1024 * 1024)}
    )
    assert response.status_code == 400
    assert watched(alice) == [1001, 1002, 1003]


def test_too_many_fields_is_rejected(alice_client, alice):
    response = alice_client.post(
        "/shows/saga/s2/e5/watch-up-to/", {f"f{i}": "1" for i in range(500)}
    )
    assert response.status_code == 400
    assert watched(alice) == [1001, 1002, 1003]


@pytest.mark.parametrize("value", ["", "banana", "1x", "x5", "9x9", "1x1x1", "-1x2", "１x１"])
def test_malformed_time_travel_point_changes_nothing(alice_client, alice, value):
    response = alice_client.post("/shows/saga/as-of/", {"episode": value}, follow=True)
    assert response.status_code in (200, 404)
    assert "Back to my progress" not in alice_client.get("/shows/saga/").content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/shows/saga/s1/e99999999999999999999/",
        "/shows/saga/s01/e1/x",
        "/shows/%00/",
        "/shows/saga/cast/%2e%2e/",
    ],
)
def test_malformed_urls_are_404(alice_client, url):
    assert alice_client.get(url).status_code == 404


def test_admin_is_closed_to_viewers(alice_client):
    response = alice_client.get("/admin/companion/recap/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_admin_preview_page_leaves_progress_alone(client, editor, show):
    client.force_login(editor)
    page = client.get("/shows/saga/s2/e2/preview/").content.decode()
    assert "as of S2E2" in page
    client.post("/shows/saga/as-of/", {"episode": "2x2"})
    assert not Watch.objects.filter(user=editor).exists()


def test_security_headers_on_every_page(alice_client):
    response = alice_client.get("/shows/saga/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "style-src 'self'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_no_inline_scripts_styles_or_handlers_in_our_pages(alice_client):
    import re

    for url in [
        "/",
        "/shows/saga/",
        "/shows/saga/s1/e1/",
        "/shows/saga/story/",
        "/accounts/login/",
    ]:
        html = alice_client.get(url).content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), url
        assert "<style" not in html and " style=" not in html, url
        assert not re.search(r"\son[a-z]+=", html), url


def test_pages_stay_out_of_shared_caches_and_history(alice_client):
    response = alice_client.get("/shows/saga/story/")
    assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    assert {"Cookie", "HX-Request"} <= {v.strip() for v in response["Vary"].split(",")}
    html = response.content.decode()
    assert '"historyCacheSize": 0' in html and 'hx-history="false"' in html


def test_htmx_fragment_and_page_vary_on_hx_request(alice_client):
    response = alice_client.post("/shows/saga/s1/e4/watch/", **HTMX)
    assert "HX-Request" in response["Vary"]


def test_csrf_token_travels_in_hx_headers(alice_client):
    html = alice_client.get("/shows/saga/").content.decode()
    assert 'hx-headers=\'{"X-CSRFToken": "' in html


def test_csrf_cookie_is_out_of_reach_of_scripts(client):
    response = client.get("/accounts/login/")
    assert response.cookies["csrftoken"]["httponly"] is True


def test_static_files_have_the_pages_frame_policy_and_nosniff(client, settings):
    # As in production, WhiteNoise answers before Django's clickjacking middleware; finders let it
    # serve from static/ without a collectstatic run.
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    response = client.get("/static/js/site.js")
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "a-production-secret-key-that-is-long-and-random-0123456789-abcdefghij",
    "DJANGO_ALLOWED_HOSTS": "spoilerfree.example",
}


def run_manage(*args, env):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )


def test_production_settings_pass_check_deploy():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {**PRODUCTION_ENV, "DJANGO_SECRET_KEY": ""}
    result = run_manage("check", env=env)
    assert result.returncode != 0 and "DJANGO_SECRET_KEY" in result.stderr


def test_production_has_no_debug_page_and_secure_cookies():
    code = (
        "from django.conf import settings as s;"
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0, s.SECURE_SSL_REDIRECT)"
    )
    result = run_manage("shell", "--no-imports", "-c", code, env=PRODUCTION_ENV)
    assert result.stdout.split() == ["False", "True", "True", "True", "True"], result.stderr


def test_server_error_page_shows_nothing_gated(alice, show, monkeypatch):
    # The module, not the view of the same name that companion.views exports.
    views = importlib.import_module("companion.views.story")

    def broken(*args, **kwargs):
        raise RuntimeError("RECAP-saga-2x5 in an exception message")

    monkeypatch.setattr(views, "story_context", broken)
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    response = client.get("/shows/saga/story/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong" in body and "RECAP" not in body and "Traceback" not in body
