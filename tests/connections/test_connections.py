"""Account → Connections and the webhooks: alice (at 1x03 of saga) connects her media servers.

The payloads are in tests/fixtures/media/, in the shapes each server sends; the README there says
where each shape comes from.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.servers.basehttp import WSGIRequestHandler
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from companion.models import Watch
from connections.models import EVENTS_KEPT, MediaServerEvent, MediaServerHook
from connections.payloads import JELLYFIN_TEMPLATE
from tests.factories import episode, make_show, make_user
from tests.helpers import HTMX, REPO, markers_in

MEDIA = REPO / "tests" / "fixtures" / "media"
SPOILERS = re.compile(r"(TITLE|SYNOPSIS|RECAP|NOTE)-saga-\d+x\d+")


def payload(server: str, name: str) -> dict:
    return json.loads((MEDIA / server / f"{name}.json").read_text())


def fixture(server: str, name: str) -> str:
    return (MEDIA / server / name).read_text()


HANDLEBARS = re.compile(r"\{\{\{(\w+)\}\}\}|\{\{([#/]?)(\w+)((?:\s+(?:'[^']*'|\w+))*)\s*\}\}")
# Handlebars.Net's HtmlEncoder, which `{{…}}` applies and `{{{…}}}` does not.
HTML_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "'": "&#x27;",
        "`": "&#x60;",
        "=": "&#x3D;",
    }
)


def render(template: str, variables: dict) -> str:
    """A template rendered as the Jellyfin Webhook plugin renders it (Handlebars.Net).

    The plugin puts a backslash before each `"` of a name (DataObjectHelpers' Escape) before
    rendering; a C# bool renders as True/False; a variable it does not set renders empty; the one
    helper the guides use is `if_equals` (case-insensitive).
    """
    values = {
        key: (
            ("True" if value else "False")
            if isinstance(value, bool)
            else str(value).replace('"', '\\"')
            if key in ("Name", "SeriesName", "Overview", "NotificationUsername")
            else str(value)
        )
        for key, value in variables.items()
    }
    tokens: list[tuple[str, ...]] = []
    position = 0
    for found in HANDLEBARS.finditer(template):
        tokens.append(("text", template[position : found.start()]))
        if found[1]:
            tokens.append(("raw", found[1]))
        elif found[2] == "#":
            tokens.append(("if", *found[4].split()))
        elif found[2] == "/":
            tokens.append(("end",))
        elif found[3] == "else":
            tokens.append(("else",))
        else:
            tokens.append(("escaped", found[3]))
        position = found.end()
    tokens.append(("text", template[position:]))

    def block(index: int) -> tuple[str, int]:
        out = []
        while index < len(tokens) and tokens[index][0] not in ("else", "end"):
            kind, *args = tokens[index]
            if kind == "text":
                out.append(args[0])
            elif kind == "raw":
                out.append(values.get(args[0], ""))
            elif kind == "escaped":
                out.append(values.get(args[0], "").translate(HTML_ESCAPES))
            else:
                yes, index = block(index + 1)
                no = ""
                if tokens[index][0] == "else":
                    no, index = block(index + 1)
                equal = values.get(args[0], "").lower() == args[1].strip("'").lower()
                out.append(yes if equal else no)
            index += 1
        return "".join(out), index

    return block(0)[0]


# What the plugin offers a template for Saga's 1x04 stopped at its end (tests/fixtures/media/README.md).
PLAYBACK_STOP = {
    "NotificationType": "PlaybackStop",
    "NotificationUsername": "alice",
    "ItemType": "Episode",
    "Name": "TITLE-saga-1x4",
    "SeriesName": "Saga",
    "Year": 2019,
    "SeasonNumber": 1,
    "EpisodeNumber": 4,
    "RunTimeTicks": 34800000000,
    "PlaybackPositionTicks": 34790000000,
    "Provider_tvdb": "7464567",
    "Provider_tmdb": "1959093",
    "Provider_imdb": "tt9184960",
    "PlayedToCompletion": True,
    "ItemId": "4a7b3c2d1e0f4a5b8c9d0e1f2a3b4c5d",
    "UserId": "8e1f2d3c4b5a69788796a5b4c3d2e1f0",
    "UtcTimestamp": "12/02/2026 20:14:07",
}


@pytest.fixture
def saga_ids(show):
    """Saga's 1x04 carries the ids the fixtures name for it."""
    target = episode(show, "1x04")
    target.tvdb_id, target.tmdb_id, target.imdb_id = "7464567", "1959093", "tt9184960"
    target.save()
    return show


@pytest.fixture
def urls(alice) -> dict[str, str]:
    """Alice's webhook path for each server."""
    return {
        server: reverse(
            "media-hook", args=[server, MediaServerHook.objects.issue(user=alice, server=server)[1]]
        )
        for server in ("jellyfin", "plex", "emby")
    }


def deliver(client, url: str, server: str, data, **extra):
    """POST as the server does: Plex a multipart form with a `payload` field, the others JSON."""
    if server == "plex":
        return client.post(url, {"payload": json.dumps(data), **extra})
    return client.post(url, json.dumps(data), content_type="application/json")


def watched(user) -> set[str]:
    return {w.episode.code for w in Watch.objects.filter(user=user).select_related("episode")}


def answer(response) -> dict:
    assert response["Content-Type"] == "application/json"
    return response.json()


# --- The Connections page ------------------------------------------------------------------------


def test_connections_page_is_linked_from_the_account_page(alice_client):
    assert reverse("connections") in alice_client.get(reverse("preferences")).content.decode()
    page = alice_client.get(reverse("connections")).content.decode()
    for button in ("Create a Jellyfin URL", "Create a Plex URL", "Create an Emby URL"):
        assert button in page


def test_a_new_url_is_shown_once_and_only_its_hash_is_kept(alice_client, alice):
    page = alice_client.post(reverse("connections"), {"server": "plex"}).content.decode()
    [url] = re.findall(r"http://testserver(/api/hooks/plex/[^<\s]+)", page)
    secret = url.rstrip("/").rsplit("/", 1)[1]
    hook = MediaServerHook.objects.get(user=alice, server="plex")
    assert hook.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in alice_client.get(reverse("connections")).content.decode()
    assert "Replace the Plex URL" in alice_client.get(reverse("connections")).content.decode()


def test_replacing_a_url_retires_the_old_one(alice_client, alice, urls, saga_ids):
    old = urls["plex"]
    alice_client.post(reverse("connections"), {"server": "plex"})
    assert deliver(Client(), old, "plex", payload("plex", "scrobble")).status_code == 404
    assert MediaServerHook.objects.filter(user=alice).count() == 3


def test_a_revoked_url_answers_404(alice_client, alice, urls, saga_ids):
    response = alice_client.post(reverse("connections-revoke"), {"server": "emby"}, follow=True)
    assert "Revoked the Emby URL" in response.content.decode()
    response = deliver(Client(), urls["emby"], "emby", payload("emby", "playback-stop-completed"))
    assert response.status_code == 404 and "detail" in answer(response)
    assert watched(alice) == {"1x1", "1x2", "1x3"}


def test_an_unknown_server_in_the_form_is_refused(alice_client, alice):
    alice_client.post(reverse("connections"), {"server": "kodi"})
    assert not MediaServerHook.objects.filter(user=alice).exists()


def test_connections_page_needs_csrf_but_webhooks_do_not(alice, urls, saga_ids):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    assert strict.post(reverse("connections"), {"server": "plex"}).status_code == 403
    response = deliver(
        Client(enforce_csrf_checks=True), urls["plex"], "plex", payload("plex", "scrobble")
    )
    assert response.status_code == 200


# --- Jellyfin ------------------------------------------------------------------------------------


def test_jellyfin_playback_stopped_at_the_end_marks_the_episode(client, alice, urls, saga_ids):
    response = deliver(
        client, urls["jellyfin"], "jellyfin", payload("jellyfin", "playback-stop-completed")
    )
    assert response.status_code == 200
    assert answer(response) == {"status": "marked", "detail": "marked Saga S1E4"}
    assert "1x4" in watched(alice)


def test_jellyfin_partial_play_changes_nothing(client, alice, urls, saga_ids):
    response = deliver(
        client, urls["jellyfin"], "jellyfin", payload("jellyfin", "playback-stop-partial")
    )
    assert answer(response) == {"status": "ignored", "detail": "ignored: not finished"}
    assert watched(alice) == {"1x1", "1x2", "1x3"}


def test_jellyfin_marked_played_marks_the_episode(client, alice, urls, saga_ids):
    deliver(client, urls["jellyfin"], "jellyfin", payload("jellyfin", "user-data-saved-played"))
    assert "1x4" in watched(alice)


def test_jellyfin_user_data_saved_for_a_rating_changes_nothing(client, alice, urls, saga_ids):
    data = payload("jellyfin", "user-data-saved-played") | {"SaveReason": "UpdateUserRating"}
    assert answer(deliver(client, urls["jellyfin"], "jellyfin", data))["status"] == "ignored"
    assert watched(alice) == {"1x1", "1x2", "1x3"}


def test_jellyfin_payload_with_every_field_and_no_ids_matches_by_title(client, alice, urls, show):
    response = deliver(
        client, urls["jellyfin"], "jellyfin", payload("jellyfin", "playback-stop-all-fields")
    )
    assert answer(response)["detail"] == "marked Saga S1E5"


def test_jellyfin_movie_changes_nothing(client, alice, urls, saga_ids):
    response = deliver(
        client, urls["jellyfin"], "jellyfin", payload("jellyfin", "playback-stop-movie")
    )
    assert answer(response)["detail"] == "ignored: a movie"
    assert watched(alice) == {"1x1", "1x2", "1x3"}


def test_the_documented_jellyfin_template_sends_what_we_need(client, alice, urls, show):
    # The variables the plugin offers for a PlaybackStop; one it does not set renders empty.
    offered = payload("jellyfin", "playback-stop-all-fields") | {"Provider_tvdb": "7464567"}
    body = render(JELLYFIN_TEMPLATE, offered)
    response = client.post(urls["jellyfin"], body, content_type="application/json")
    assert answer(response)["detail"] == "marked Saga S1E5"


def test_the_template_in_the_docs_is_the_one_on_the_page(alice_client):
    doc = (REPO / "docs" / "MEDIA_SERVERS.md").read_text()
    assert f"```handlebars\n{JELLYFIN_TEMPLATE}\n```" in doc
    page = alice_client.get(reverse("connections")).content.decode()
    assert escape(JELLYFIN_TEMPLATE) in page


@pytest.mark.parametrize("title", ["Law & Order", "Grey's Anatomy", 'The "Saga"', "Pokémon <3"])
@pytest.mark.parametrize("template", ["documented", "before-31"])
def test_a_title_with_special_characters_is_matched(client, alice, urls, template, title):
    # "Law & Order" through `{{SeriesName}}` arrives as "Law &amp; Order"; a quote, which the
    # plugin makes `\"`, as `\&quot;`, invalid JSON. The documented template sends them as they are.
    make_show("special", title=title)
    text = (
        JELLYFIN_TEMPLATE
        if template == "documented"
        else fixture("jellyfin", "template-before-31.handlebars")
    )
    offered = PLAYBACK_STOP | {"SeriesName": title, "Provider_tvdb": "", "Provider_tmdb": ""}
    offered |= {"Provider_imdb": "", "Year": ""}
    body = render(text, offered)
    response = client.post(urls["jellyfin"], body.encode(), content_type="text/plain")
    assert answer(response) == {"status": "marked", "detail": f"marked {title} S1E4"}
    if template == "documented":
        assert json.loads(body)["SeriesName"] == title


def test_an_html_escaped_title_from_an_old_template_is_matched(client, alice, urls):
    # The exact body the template documented before issue 31 made of a quoted title.
    make_show("special", title='The "Saga" & Co')
    body = fixture("jellyfin", "old-template-quoted-title.txt")
    response = client.post(urls["jellyfin"], body, content_type="text/plain")
    assert answer(response)["detail"] == 'marked The "Saga" & Co S1E4'


# --- Jellyfin: the Generic Form destination -------------------------------------------------------


def test_jellyfin_generic_form_marks_the_episode(client, alice, urls, saga_ids):
    body = fixture("jellyfin", "generic-form-playback-stop.txt")
    response = client.post(urls["jellyfin"], body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert answer(response) == {"status": "marked", "detail": "marked Saga S1E4"}
    assert "1x4" in watched(alice)
    again = client.post(urls["jellyfin"], body, content_type="application/x-www-form-urlencoded")
    assert answer(again)["status"] == "duplicate"


def test_jellyfin_generic_form_with_every_property(client, alice, urls, show):
    body = fixture("jellyfin", "generic-form-all-properties.txt")
    response = client.post(urls["jellyfin"], body, content_type="application/x-www-form-urlencoded")
    assert answer(response)["detail"] == "marked Saga S1E5"


def test_jellyfin_generic_form_of_a_partial_play_changes_nothing(client, alice, urls, saga_ids):
    body = fixture("jellyfin", "generic-form-playback-stop.txt").replace(
        "PlayedToCompletion=True", "PlayedToCompletion=False"
    )
    response = client.post(urls["jellyfin"], body, content_type="application/x-www-form-urlencoded")
    assert answer(response)["detail"] == "ignored: not finished"
    assert watched(alice) == {"1x1", "1x2", "1x3"}


# --- Jellyfin: templates in the nested shape (the Ryot and Yamtrack guides) -----------------------


@pytest.mark.parametrize("guide", ["ryot", "yamtrack"])
def test_jellyfin_template_from_a_guide_marks_the_episode(client, alice, urls, saga_ids, guide):
    template = fixture("jellyfin", f"{guide}-template.handlebars")
    response = client.post(
        urls["jellyfin"], render(template, PLAYBACK_STOP), content_type="application/json"
    )
    assert answer(response) == {"status": "marked", "detail": "marked Saga S1E4"}
    assert "1x4" in watched(alice)


@pytest.mark.parametrize("guide", ["ryot", "yamtrack"])
def test_jellyfin_template_from_a_guide_stopped_midway_changes_nothing(
    client, alice, urls, saga_ids, guide
):
    template = fixture("jellyfin", f"{guide}-template.handlebars")
    partial = render(template, PLAYBACK_STOP | {"PlayedToCompletion": False})
    response = client.post(urls["jellyfin"], partial, content_type="application/json")
    assert answer(response)["detail"] == "ignored: not finished"
    assert watched(alice) == {"1x1", "1x2", "1x3"}


# --- Jellyfin: shemanaev's Webhooks plugin ----------------------------------------------------------


def test_shemanaev_plugin_stop_after_the_end_marks_the_episode(client, alice, urls, saga_ids):
    response = deliver(client, urls["jellyfin"], "jellyfin", payload("jellyfin", "shemanaev-stop"))
    assert answer(response) == {"status": "marked", "detail": "marked Saga S1E4"}


def test_shemanaev_plugin_mark_played_marks_the_episode(client, alice, urls, saga_ids):
    data = payload("jellyfin", "shemanaev-markplayed")
    assert answer(deliver(client, urls["jellyfin"], "jellyfin", data))["status"] == "marked"
    assert "1x4" in watched(alice)


def test_shemanaev_plugin_stop_midway_changes_nothing(client, alice, urls, saga_ids):
    data = payload("jellyfin", "shemanaev-stop-partial")
    response = deliver(client, urls["jellyfin"], "jellyfin", data)
    assert answer(response)["detail"] == "ignored: not finished"
    assert watched(alice) == {"1x1", "1x2", "1x3"}


def test_shemanaev_plugin_matches_by_the_series_ids(client, alice, urls, show):
    # Without the episode's ids and under another name, the series' TVDB id names the show.
    show.tvdb_id = "361565"
    show.save()
    data = payload("jellyfin", "shemanaev-stop")
    data["Item"] |= {"ProviderIds": {}, "SeriesName": "Saga: The Series", "IndexNumber": 5}
    data["Series"]["Name"] = "Saga: The Series"
    assert answer(deliver(client, urls["jellyfin"], "jellyfin", data))["detail"] == (
        "marked Saga S1E5"
    )


# --- Plex ----------------------------------------------------------------------------------------


def test_plex_scrobble_marks_the_episode_by_its_ids(client, alice, urls, saga_ids):
    response = deliver(client, urls["plex"], "plex", payload("plex", "scrobble"))
    assert answer(response) == {"status": "marked", "detail": "marked Saga S1E4"}
    assert "1x4" in watched(alice)


def test_plex_scrobble_with_a_thumbnail_beside_the_payload(client, alice, urls, saga_ids):
    thumb = SimpleUploadedFile("thumb.jpg", b"\xff\xd8\xff\xe0" + b"0" * 2000, "image/jpeg")
    response = deliver(client, urls["plex"], "plex", payload("plex", "scrobble"), thumb=thumb)
    assert answer(response)["status"] == "marked"


def test_plex_pause_changes_nothing(client, alice, urls, saga_ids):
    response = deliver(client, urls["plex"], "plex", payload("plex", "pause"))
    assert answer(response)["detail"] == "ignored: not finished"
    assert watched(alice) == {"1x1", "1x2", "1x3"}


def test_plex_legacy_agent_matches_by_the_series_id(client, alice, urls, show):
    show.tvdb_id = "361565"
    show.save()
    response = deliver(client, urls["plex"], "plex", payload("plex", "scrobble-legacy-agent"))
    # The server calls it something else; the series' TVDB id in the guid names it.
    assert answer(response)["detail"] == "already watched Saga S1E2"


def test_plex_movie_changes_nothing(client, alice, urls, saga_ids):
    response = deliver(client, urls["plex"], "plex", payload("plex", "scrobble-movie"))
    assert answer(response)["detail"] == "ignored: a movie"


def test_plex_unknown_show_is_reported_not_matched(client, alice, urls, saga_ids):
    response = deliver(client, urls["plex"], "plex", payload("plex", "scrobble-unknown-show"))
    assert answer(response) == {
        "status": "not_matched",
        "detail": "not matched: Severance S1E1 (no such show here)",
    }
    assert watched(alice) == {"1x1", "1x2", "1x3"}


def test_plex_json_body_without_the_form_is_refused(client, urls, saga_ids):
    response = deliver(client, urls["plex"], "jellyfin", payload("plex", "scrobble"))
    assert response.status_code == 400 and "payload" in answer(response)["detail"]


# --- Emby ----------------------------------------------------------------------------------------


def test_emby_playback_stop_played_to_completion_marks_the_episode(client, alice, urls, saga_ids):
    response = deliver(client, urls["emby"], "emby", payload("emby", "playback-stop-completed"))
    assert answer(response) == {"status": "marked", "detail": "marked Saga S1E4"}


def test_emby_partial_play_changes_nothing(client, alice, urls, saga_ids):
    response = deliver(client, urls["emby"], "emby", payload("emby", "playback-stop-partial"))
    assert answer(response)["detail"] == "ignored: not finished"
    assert watched(alice) == {"1x1", "1x2", "1x3"}


def test_emby_mark_played_marks_the_episode(client, alice, urls, saga_ids):
    deliver(client, urls["emby"], "emby", payload("emby", "markplayed"))
    assert "1x4" in watched(alice)


def test_emby_movie_changes_nothing(client, alice, urls, saga_ids):
    response = deliver(client, urls["emby"], "emby", payload("emby", "playback-stop-movie"))
    assert answer(response)["detail"] == "ignored: a movie"


def test_emby_form_with_a_data_field_is_read_too(client, alice, urls, saga_ids):
    data = json.dumps(payload("emby", "playback-stop-completed"))
    assert answer(client.post(urls["emby"], {"data": data}))["status"] == "marked"


# --- Matching ------------------------------------------------------------------------------------


def test_episode_ids_win_over_the_numbers_the_server_gives(client, alice, urls, saga_ids):
    data = payload("emby", "playback-stop-completed")
    data["Item"] |= {"ParentIndexNumber": 2, "IndexNumber": 1}
    assert answer(deliver(client, urls["emby"], "emby", data))["detail"] == "marked Saga S1E4"


def test_without_ids_the_title_season_and_number_match(client, alice, urls, show):
    data = payload("emby", "playback-stop-completed")
    data["Item"] |= {"ProviderIds": {}, "SeriesName": "saga (2019)", "IndexNumber": 5}
    assert answer(deliver(client, urls["emby"], "emby", data))["detail"] == "marked Saga S1E5"


def test_a_missing_episode_of_a_known_show_is_not_matched(client, alice, urls, show):
    data = payload("emby", "playback-stop-completed")
    data["Item"] |= {"ProviderIds": {}, "ParentIndexNumber": 9, "IndexNumber": 9}
    detail = answer(deliver(client, urls["emby"], "emby", data))["detail"]
    assert detail == "not matched: Saga S9E9 (no such episode here)"


# --- Refusals, duplicates, robustness ------------------------------------------------------------


def test_a_bad_token_gets_a_json_404(client, urls, saga_ids):
    for url in ("/api/hooks/plex/sfm_wrong/", "/api/hooks/plex/nope/", "/api/hooks/kodi/sfm_x/"):
        response = deliver(client, url, "plex", payload("plex", "scrobble"))
        assert response.status_code == 404 and "detail" in answer(response)


def test_a_token_works_only_for_its_own_server(client, urls, saga_ids):
    secret = urls["plex"].rstrip("/").rsplit("/", 1)[1]
    data = payload("jellyfin", "playback-stop-completed")
    assert deliver(client, f"/api/hooks/jellyfin/{secret}/", "jellyfin", data).status_code == 404


def test_a_get_is_refused_as_json(client, urls):
    response = client.get(urls["jellyfin"])
    assert response.status_code == 405 and "detail" in answer(response)


def test_an_oversized_body_is_refused(client, alice, urls, saga_ids):
    data = payload("jellyfin", "playback-stop-completed") | {"Overview": "x" * (1024 * 1024)}
    response = deliver(client, urls["jellyfin"], "jellyfin", data)
    assert response.status_code == 400 and "1 MB" in answer(response)["detail"]
    thumb = SimpleUploadedFile("thumb.jpg", b"0" * (1024 * 1024 + 1), "image/jpeg")
    response = deliver(client, urls["plex"], "plex", payload("plex", "scrobble"), thumb=thumb)
    assert response.status_code == 400
    assert watched(alice) == {"1x1", "1x2", "1x3"}
    assert not MediaServerEvent.objects.exists()


@pytest.mark.parametrize(
    "body", [b"", b"not json", b"[1, 2]", b'"text"', b"\xff\xfe{", b"[" * 100_000]
)
def test_a_malformed_body_is_refused(client, urls, body):
    for server in ("jellyfin", "emby"):
        response = client.post(urls[server], body, content_type="application/json")
        assert response.status_code == 400 and "detail" in answer(response)
    response = client.post(urls["plex"], {"payload": body.decode(errors="replace")})
    assert response.status_code == 400


def test_the_same_delivery_twice_marks_once(client, alice, urls, saga_ids):
    first = deliver(client, urls["plex"], "plex", payload("plex", "scrobble"))
    again = deliver(client, urls["plex"], "plex", payload("plex", "scrobble"))
    assert answer(first)["status"] == "marked"
    assert answer(again)["status"] == "duplicate"
    assert Watch.objects.filter(user=alice, episode__tvdb_id="7464567").count() == 1
    assert MediaServerEvent.objects.filter(user=alice).count() == 1


def test_the_same_event_after_an_hour_is_a_new_one(client, alice, urls, saga_ids):
    deliver(client, urls["plex"], "plex", payload("plex", "scrobble"))
    MediaServerEvent.objects.update(received_at=timezone.now() - timedelta(hours=2))
    again = deliver(client, urls["plex"], "plex", payload("plex", "scrobble"))
    assert answer(again)["detail"] == "already watched Saga S1E4"


def test_a_finished_episode_follows_its_show(client, alice, urls, saga_ids):
    alice.follows.all().delete()
    deliver(client, urls["emby"], "emby", payload("emby", "playback-stop-completed"))
    assert alice.follows.filter(show=saga_ids).exists()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    server=st.sampled_from(["jellyfin", "plex", "emby"]),
    data=st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False)
        | st.text(max_size=20),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "event",
                        "Event",
                        "NotificationType",
                        "Metadata",
                        "Item",
                        "type",
                        "Type",
                        "PlaybackInfo",
                        "Guid",
                        "ProviderIds",
                        "index",
                        "parentIndex",
                        "SeasonNumber",
                        "EpisodeNumber",
                        "IndexNumber",
                        "ParentIndexNumber",
                        "ItemType",
                        "Played",
                    ]
                )
                | st.text(max_size=8),
                inner,
                max_size=6,
            )
        ),
        max_leaves=20,
    ),
)
def test_any_json_gets_a_quick_json_answer_never_a_500(client, urls, server, data):
    response = deliver(client, urls[server], server, data)
    assert response.status_code in (200, 400) and "detail" in answer(response)


# --- What the page shows --------------------------------------------------------------------------


def test_the_page_lists_what_each_event_did(alice_client, alice, urls, saga_ids):
    client = Client()
    deliver(client, urls["plex"], "plex", payload("plex", "scrobble"))
    deliver(client, urls["plex"], "plex", payload("plex", "scrobble-unknown-show"))
    deliver(client, urls["emby"], "emby", payload("emby", "playback-stop-partial"))
    page = alice_client.get(reverse("connections")).content.decode()
    assert "marked Saga S1E4" in page
    assert "not matched: Severance S1E1" in page
    assert "ignored: not finished" in page
    assert "media.scrobble" in page and "playback.stop" in page


def test_only_the_last_twenty_events_are_kept(client, alice, urls, saga_ids):
    for n in range(EVENTS_KEPT + 5):
        data = payload("emby", "playback-stop-partial")
        data["PlaybackInfo"]["PositionTicks"] = n  # a different delivery each time
        deliver(client, urls["emby"], "emby", data)
    assert MediaServerEvent.objects.filter(user=alice).count() == EVENTS_KEPT


def test_a_mark_stays_on_the_page_through_a_flood_of_progress_saves(
    alice_client, alice, urls, saga_ids
):
    # Jellyfin with "User Data Saved" ticked: one save every few seconds of playback, then a mark.
    client = Client()
    deliver(client, urls["jellyfin"], "jellyfin", payload("jellyfin", "user-data-saved-played"))
    for n in range(EVENTS_KEPT + 5):
        data = payload("jellyfin", "user-data-saved-progress")
        data["UtcTimestamp"] = f"12/02/2026 20:{n:02}:00"
        response = deliver(client, urls["jellyfin"], "jellyfin", data)
        assert answer(response) == {"status": "ignored", "detail": "ignored: not finished"}
    for n in range(EVENTS_KEPT + 5):
        data = payload("jellyfin", "shemanaev-progress")
        data["Session"]["PlayState"]["PositionTicks"] = n
        assert answer(deliver(client, urls["jellyfin"], "jellyfin", data))["status"] == "ignored"
    page = alice_client.get(reverse("connections")).content.decode()
    assert "marked Saga S1E4" in page
    assert page.count("UserDataSaved") == 1
    assert alice.media_server_hooks.get(server="jellyfin").last_event_at is not None


def test_a_mark_stays_on_the_page_through_a_flood_of_other_deliveries(
    alice_client, alice, urls, saga_ids
):
    # Deliveries that change nothing but are listed (pauses, here) cannot push a mark out either.
    client = Client()
    deliver(client, urls["plex"], "plex", payload("plex", "scrobble"))
    for n in range(EVENTS_KEPT + 5):
        data = payload("plex", "pause")
        data["Metadata"]["viewOffset"] = n
        deliver(client, urls["plex"], "plex", data)
    page = alice_client.get(reverse("connections")).content.decode()
    assert "marked Saga S1E4" in page
    assert page.count("media.pause") == EVENTS_KEPT
    assert MediaServerEvent.objects.filter(user=alice).count() == EVENTS_KEPT + 1


def test_another_viewers_events_are_not_listed(alice_client, urls, saga_ids):
    bob = make_user("bobby")
    bob_url = reverse(
        "media-hook", args=["plex", MediaServerHook.objects.issue(user=bob, server="plex")[1]]
    )
    deliver(Client(), bob_url, "plex", payload("plex", "scrobble-unknown-show"))
    assert "Severance" not in alice_client.get(reverse("connections")).content.decode()


def test_connections_page_and_answers_hold_no_episode_titles(alice_client, alice, urls, show):
    # Alice is at 1x03. Her server reports 2x03 finished (past her point: now a gap), 1x05 partly
    # played, and a Severance episode; the payloads carry those episodes' titles and synopses.
    client, answers = Client(), []
    scrobble = payload("plex", "scrobble")
    scrobble["Metadata"] |= {"Guid": [], "parentIndex": 2, "index": 3, "title": "TITLE-saga-2x3"}
    answers.append(deliver(client, urls["plex"], "plex", scrobble))
    partial = payload("emby", "playback-stop-partial")
    partial["Item"] |= {"ProviderIds": {}, "IndexNumber": 5, "Name": "TITLE-saga-1x5"}
    answers.append(deliver(client, urls["emby"], "emby", partial))
    answers.append(deliver(client, urls["plex"], "plex", payload("plex", "scrobble-unknown-show")))
    answers.append(
        deliver(
            client, urls["jellyfin"], "jellyfin", payload("jellyfin", "playback-stop-all-fields")
        )
    )
    # shemanaev's plugin sends the whole item, title and overview included (1x04, matched by
    # numbers), and then its progress: the Generic Form sends 1x05's title as a field.
    answers.append(
        deliver(client, urls["jellyfin"], "jellyfin", payload("jellyfin", "shemanaev-stop"))
    )
    answers.append(
        deliver(client, urls["jellyfin"], "jellyfin", payload("jellyfin", "shemanaev-progress"))
    )
    answers.append(
        client.post(
            urls["jellyfin"],
            fixture("jellyfin", "generic-form-all-properties.txt"),
            content_type="application/x-www-form-urlencoded",
        )
    )
    for response in [
        *answers,
        alice_client.get(reverse("connections")),
        alice_client.get(reverse("connections"), headers={"HX-Request": "true"}),
        alice_client.get(reverse("connections"), **HTMX),
    ]:
        text = markers_in(response)
        assert not SPOILERS.search(text), SPOILERS.search(text)
        assert "Good News About Hell" not in text
    page = alice_client.get(reverse("connections")).content.decode()
    # What is safe is there: show titles and codes.
    assert "marked Saga S2E3" in page and "marked Saga S1E5" in page
    assert "marked Saga S1E4" in page
    assert "not matched: Severance S1E1" in page
    assert "ignored: not finished" in page


def test_the_data_export_lists_connections_and_events_but_no_secret(
    alice_client, alice, urls, saga_ids
):
    deliver(Client(), urls["plex"], "plex", payload("plex", "scrobble"))
    body = alice_client.get(reverse("export-data")).content.decode()
    data = json.loads(body)
    assert {hook["server"] for hook in data["media_servers"]} == {"jellyfin", "plex", "emby"}
    assert data["media_server_events"][0]["result"] == "marked Saga S1E4"
    assert not any(url.rstrip("/").rsplit("/", 1)[1] in body for url in urls.values())


def test_plex_play_by_someone_the_server_is_shared_with_changes_nothing(
    client, alice, urls, saga_ids
):
    data = payload("plex", "scrobble") | {"user": False, "Account": {"id": 7, "title": "guest"}}
    assert answer(deliver(client, urls["plex"], "plex", data))["detail"] == (
        "ignored: another Plex user's play"
    )
    assert watched(alice) == {"1x1", "1x2", "1x3"}


def test_the_connections_page_costs_the_same_queries_for_any_number_of_events(
    alice_client, urls, saga_ids
):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert alice_client.get(reverse("connections")).status_code == 200
        return len(captured)

    deliver(Client(), urls["plex"], "plex", payload("plex", "scrobble"))
    one = queries()
    for n in range(EVENTS_KEPT):
        data = payload("plex", "scrobble-unknown-show")
        data["Metadata"]["index"] = n + 1
        deliver(Client(), urls["plex"], "plex", data)
    assert queries() == one


# --- Logs -----------------------------------------------------------------------------------------


def secret_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[1]


@pytest.mark.parametrize("status", ["200", "400", "404"])
def test_runserver_logs_a_webhook_request_without_its_secret(urls, status):
    # What Django's development server logs for each request, through the configured handler.
    handler = logging.getLogger("django.server").handlers[0]
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        server = SimpleNamespace(request=None, log_date_time_string=lambda: "06/Dec/2026 07:30:00")
        WSGIRequestHandler.log_message(
            server,
            '"%s" %s %s',
            f"POST {urls['jellyfin']} HTTP/1.1",
            status,
            "52",
        )
    finally:
        handler.setStream(previous)
    line = stream.getvalue()
    assert '"POST /api/hooks/jellyfin/[secret]/ HTTP/1.1"' in line
    assert secret_of(urls["jellyfin"]) not in line


def test_django_logs_a_refused_delivery_without_its_secret(client, urls, caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.post(urls["jellyfin"], b"not json", content_type="text/plain").status_code
        wrong = urls["plex"][:-5] + "wrong/"
        assert client.post(wrong, {"payload": "{}"}).status_code == 404
    assert "Bad Request: /api/hooks/jellyfin/[secret]/" in caplog.text
    assert "Not Found: /api/hooks/plex/[secret]/" in caplog.text
    assert secret_of(urls["jellyfin"]) not in caplog.text
    assert secret_of(wrong) not in caplog.text


@pytest.mark.parametrize("masked", [True, False])
def test_gunicorn_access_log_holds_no_webhook_secret(tmp_path, urls, masked):
    # gunicorn as docs/DEPLOY.md runs it: the default access log format, with its request line.
    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    from connections.gunicorn_logging import MaskedLogger

    assert (
        "--logger-class connections.gunicorn_logging.MaskedLogger"
        in (REPO / "docs" / "DEPLOY.md").read_text()
    )
    config = Config()
    config.set("accesslog", str(tmp_path / "access.log"))
    config.set("access_log_format", config.access_log_format + ' "%(U)s" %({raw_uri}e)s')
    logger = (MaskedLogger if masked else Logger)(config)
    url = urls["emby"]
    environ = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": url,
        "PATH_INFO": url,
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.0.0.5",
    }
    response = SimpleNamespace(status="200 OK", headers=[], sent=52)
    logger.access(response, SimpleNamespace(headers=[]), environ, timedelta(milliseconds=7))
    line = (tmp_path / "access.log").read_text()
    assert '"POST /api/hooks/emby/' in line
    assert (secret_of(url) in line) is not masked


# --- Marking in a background job ------------------------------------------------------------------


def test_a_finished_episode_is_answered_at_once_and_marked_by_the_job(
    client, alice, urls, saga_ids, queued_tasks
):
    from connections.tasks import mark_finished

    data = payload("plex", "scrobble")
    response = deliver(client, urls["plex"], "plex", data)
    assert response.status_code == 200
    assert answer(response) == {"status": "queued", "detail": "to be matched Saga S1E4"}
    assert "1x4" not in watched(alice)
    [job] = queued_tasks.results
    assert job.task.name == "mark_finished"

    assert mark_finished.call(*job.args) == "marked Saga S1E4"
    assert "1x4" in watched(alice)
    # Running the job again (a worker retrying it) changes nothing more.
    assert mark_finished.call(*job.args) == "nothing to do"
    assert MediaServerEvent.objects.get().summary == "marked Saga S1E4"


def test_a_delivery_sent_again_while_its_job_waits_is_a_duplicate(
    client, alice, urls, saga_ids, queued_tasks
):
    data = payload("jellyfin", "playback-stop-completed")
    assert answer(deliver(client, urls["jellyfin"], "jellyfin", data))["status"] == "queued"
    assert answer(deliver(client, urls["jellyfin"], "jellyfin", data))["status"] == "duplicate"
    assert len(queued_tasks.results) == 1


def test_a_waiting_event_is_listed_as_waiting(alice_client, alice, urls, saga_ids, queued_tasks):
    deliver(Client(), urls["emby"], "emby", payload("emby", "playback-stop-completed"))
    page = alice_client.get(reverse("connections")).content.decode()
    assert "to be matched Saga S1E4" in page


def test_pauses_and_partial_plays_queue_no_job(client, alice, urls, saga_ids, queued_tasks):
    data = payload("jellyfin", "playback-stop-partial")
    assert answer(deliver(client, urls["jellyfin"], "jellyfin", data))["status"] == "ignored"
    assert queued_tasks.results == []
