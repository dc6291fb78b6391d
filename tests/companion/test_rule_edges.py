"""The rule at its edges: specials in their aired place, opaque ids, hidden looks like missing, an order editors cannot break."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from companion.models import Character, CharacterState, Episode, Recap, ReviewerNote, Season
from tests.crawl import ROUTE_PARAMETER, plugged_in, routes
from tests.factories import episode, make_character, make_user, watch
from tests.helpers import form_values, mask_csrf, says


@pytest.fixture
def special(show):
    """A special that airs after 1x05, with its own recap, note and a character who debuts in it."""
    specials = Season.objects.create(show=show, number=0)
    christmas = Episode.objects.create(
        season=specials,
        number=1,
        title="TITLE-saga-special",
        synopsis="SYNOPSIS-saga-special",
        airs_after=episode(show, "1x05"),
    )
    show.resequence()
    Recap.objects.create(episode=christmas, text="RECAP-saga-special")
    make_character(show, "Yara", "0x01", {"0x01": "alive"})
    return christmas


def page(client, url: str) -> str:
    return client.get(url).content.decode()


# --- Specials ------------------------------------------------------------------------------------


def test_a_special_sits_after_the_episode_it_airs_after(show, special):
    order = [e.code for e in show.episodes.order_by("sequence")]
    assert order.index("0x1") == order.index("1x5") + 1


def test_a_special_set_late_stays_hidden_from_a_viewer_at_1x01(client, show, special):
    viewer = make_user("early")
    watch(viewer, show, "1x01")
    client.force_login(viewer)
    for url in ("/shows/saga/", "/shows/saga/cast/", "/shows/saga/story/", "/shows/saga/s0/e1/"):
        body = page(client, url)
        assert "RECAP-saga-special" not in body and not says(body, "Yara"), url
        assert "SYNOPSIS-saga-special" not in body, url


def test_a_special_watched_with_everything_before_it_unlocks_what_it_reveals(client, show, special):
    viewer = make_user("fan")
    watch(viewer, show, "1x01", "1x02", "1x03", "1x04", "1x05", "0x01")
    client.force_login(viewer)
    assert "RECAP-saga-special" in page(client, "/shows/saga/s0/e1/")
    assert "Yara" in page(client, "/shows/saga/cast/")


def test_a_special_watched_out_of_order_unlocks_nothing(client, show, special):
    viewer = make_user("skipper")
    watch(viewer, show, "0x01")
    client.force_login(viewer)
    assert "RECAP-saga-special" not in page(client, "/shows/saga/s0/e1/")
    assert not says(page(client, "/shows/saga/cast/"), "Yara")


def test_going_past_a_special_reveals_it_without_watching_it(client, bob, special):
    client.force_login(bob)
    assert "RECAP-saga-special" in page(client, "/shows/saga/s0/e1/")
    assert "Yara" in page(client, "/shows/saga/cast/")


def test_an_unwatched_special_does_not_block_the_safe_point(show, bob, special):
    assert show.safe_point_for(bob).episode == episode(show, "2x05")


def test_a_special_title_follows_the_hide_preference(client, show, special):
    viewer = make_user("careful", hide_unwatched_titles=True)
    watch(viewer, show, "1x01")
    client.force_login(viewer)
    assert "TITLE-saga-special" not in page(client, "/shows/saga/")


def test_a_special_without_a_place_sits_at_the_end(show):
    specials = Season.objects.create(show=show, number=0)
    Episode.objects.create(season=specials, number=1)
    show.resequence()
    assert show.episodes.order_by("sequence").last().code == "0x1"


def test_a_special_without_a_place_sits_where_its_air_date_puts_it(show):
    import datetime as dt

    Episode.objects.filter(pk=episode(show, "2x01").pk).update(air_date=dt.date(2020, 6, 1))
    specials = Season.objects.create(show=show, number=0)
    Episode.objects.create(season=specials, number=1, air_date=dt.date(2020, 5, 1))
    show.resequence()
    order = [e.code for e in show.episodes.order_by("sequence")]
    # Before the first episode known to have aired later: never earlier than it could be.
    assert order.index("0x1") == order.index("2x1") - 1


# --- Opaque ids ----------------------------------------------------------------------------------


def test_no_link_names_gated_content_by_its_database_key(alice_client, show):
    bodies = "".join(
        page(alice_client, url)
        for url in (
            "/shows/saga/s1/e3/",
            "/shows/saga/cast/",
            "/shows/saga/story/",
            "/shows/saga/cast/ada/",
        )
    )
    links = re.findall(r'href="(/shows/saga/report/[^"]+)"', bodies)
    assert links
    for link in links:
        public_id = link.rstrip("/").rsplit("/", 1)[1]
        assert not public_id.isdigit() and len(public_id) >= 16, link


def test_public_ids_are_not_in_creation_order(show):
    ids = list(ReviewerNote.objects.order_by("pk").values_list("public_id", flat=True))
    assert ids != sorted(ids) or len(set(ids)) == len(ids) == 1


# --- Hidden looks exactly like missing -----------------------------------------------------------


def fetch(client, url: str) -> tuple[int, str, int]:
    # A route that only deletes is asked with its own method: a GET is refused before any lookup.
    ask = client.post if url.endswith("/delete/") else client.get
    with CaptureQueriesContext(connection) as queries:
        response = ask(url)
    return response.status_code, mask_csrf(response.content.decode()), len(queries)


def hidden_and_missing_urls(show) -> list[tuple[str, str]]:
    """For every route that takes an id or slug of gated content: a hidden target and a missing one.

    Read from the URLconf, so a new route that takes a gated id is compared too, or fails here
    until it is taught its values.
    """
    from companion.models import Party
    from discussion.models import Post

    alice = get_user_model().objects.get(username="alice")
    party = Party.objects.create(show=show, name="Alice alone", created_by=alice)
    party.members.add(alice)
    later = episode(show, "2x01")
    hidden = {
        "state": CharacterState.objects.get(description="STATE-Ada-2x02"),
        "note": ReviewerNote.objects.get(text="NOTE-saga-2x1"),
        "recap": Recap.objects.get(text="RECAP-saga-2x5"),
        # Her own posts, revealed past her point: one on the episode, one in her party's thread.
        "post": Post.objects.create(episode=later, author=alice, text="POST-2x1"),
        "party-post": Post.objects.create(episode=later, author=alice, text="P-2x1", party=party),
    }
    gated = {
        "character_slug": [({"character_slug": "zed-quist"}, {"character_slug": "zee"})],
        "public_id": [
            ({"kind": kind, "public_id": item.public_id}, {"kind": kind, "public_id": "x" * 16})
            for kind, item in hidden.items()
        ],
    }
    known = {"slug": "saga", "kind": None, "pk": party.pk}
    pairs = []
    for route in routes():
        names = ROUTE_PARAMETER.findall(route)
        taking = [name for name in names if name in gated]
        if not taking:
            continue
        unknown = set(names) - set(gated) - set(known)
        assert not unknown, f"teach this test the values of {unknown} in {route!r}"
        for hidden_values, missing_values in gated[taking[0]]:
            urls = []
            for values in (hidden_values, missing_values):
                parts = {"slug": "saga", "pk": party.pk, **values}
                urls.append("/" + ROUTE_PARAMETER.sub(plugged_in(parts), route))
            pairs.append((urls[0], urls[1]))
    assert len(pairs) >= 4
    return pairs


def test_hidden_content_answers_exactly_as_missing_content(alice_client, show):
    for hidden, missing in hidden_and_missing_urls(show):
        got, expected = fetch(alice_client, hidden), fetch(alice_client, missing)
        assert got[0] == expected[0] == 404, hidden
        assert got[1] == expected[1], f"{hidden}: the body differs from a missing target's"
        assert got[2] == expected[2], (
            f"{hidden}: {got[2]} queries, {expected[2]} for a missing target"
        )


def test_404_text_names_no_model_even_in_debug(alice_client, show, settings):
    settings.DEBUG = True
    hidden, missing = next(p for p in hidden_and_missing_urls(show) if "/note/" in p[0])
    assert b"ReviewerNote" not in alice_client.get(hidden).content
    hidden_id, missing_id = (
        url.rstrip("/").rsplit("/", 1)[1].encode() for url in (hidden, missing)
    )
    assert alice_client.get(hidden).content.replace(hidden_id, b"<id>") == alice_client.get(
        missing
    ).content.replace(missing_id, b"<id>")


# --- An order editors cannot break ----------------------------------------------------------------


def admin_post(client, url: str, **changes) -> str:
    """Submit an admin change form with its current values and the given changes."""
    data = form_values(client.get(url).content.decode()) | {k: str(v) for k, v in changes.items()}
    return client.post(url, data).content.decode()


def test_moving_an_episode_past_content_that_must_follow_it_is_refused(client, editor, show):
    zed = Character.objects.get(name="Zed Quist")
    CharacterState.objects.create(character=zed, reveal_at=episode(show, "1x05"), description="x")
    client.force_login(editor)
    debut = episode(show, "1x04")
    url = reverse("admin:companion_episode_change", args=[debut.pk])
    body = admin_post(client, url, season=episode(show, "2x01").season_id, number=9)
    assert (
        "Zed Quist&#x27;s state as of 1x5 would come before Zed Quist&#x27;s first appearance (2x9)."
        in body
    )
    assert Episode.objects.get(pk=debut.pk).code == "1x4"


def test_a_special_moved_in_the_admin_takes_its_new_place(client, editor, show, special):
    client.force_login(editor)
    url = reverse("admin:companion_episode_change", args=[special.pk])
    admin_post(client, url, airs_after=episode(show, "1x02").pk)
    order = [e.code for e in show.episodes.order_by("sequence")]
    assert order.index("0x1") == order.index("1x2") + 1


def test_renumbering_a_season_moves_every_episode_in_it(client, editor, show):
    client.force_login(editor)
    season = Season.objects.get(show=show, number=2)
    url = reverse("admin:companion_season_change", args=[season.pk])
    admin_post(client, url, number=3)
    assert [e.code for e in show.episodes.order_by("sequence")][5:] == [
        f"3x{n}" for n in range(1, 6)
    ]
    Season.objects.create(show=show, number=2)
    Episode.objects.create(season=Season.objects.get(show=show, number=2), number=1)
    show.resequence()
    assert client.get("/shows/saga/s2/e1/").status_code == 200
    assert [e.code for e in show.episodes.order_by("sequence")][5] == "2x1"


def test_an_episode_number_past_the_bound_is_refused(client, editor, show):
    client.force_login(editor)
    url = reverse("admin:companion_episode_change", args=[episode(show, "1x05").pk])
    body = admin_post(client, url, number=1005)
    assert "less than or equal to 999" in body
    assert episode(show, "1x05")


def test_the_database_allows_one_episode_per_place(show):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Episode.objects.filter(pk=episode(show, "1x02").pk).update(
            sequence=episode(show, "1x01").sequence
        )


# --- Season facts are gated -----------------------------------------------------------------------


def test_a_seasons_period_is_hidden_until_its_first_episode(client, show, alice):
    client.force_login(alice)
    body = page(client, "/shows/saga/")
    assert "Period 1" in body and "Period 2" not in body


def test_an_editor_can_reveal_a_period_later(client, show, alice):
    Season.objects.filter(show=show, number=1).update(period_revealed_at=episode(show, "1x05"))
    client.force_login(alice)
    assert "Period 1" not in page(client, "/shows/saga/")


# --- The editor's spoiler check ------------------------------------------------------------------


def test_a_note_naming_a_character_before_they_appear_is_refused(client, editor, show):
    client.force_login(editor)
    note = ReviewerNote.objects.get(text="NOTE-saga-1x2")
    url = reverse("admin:companion_reviewernote_change", args=[note.pk])
    body = admin_post(client, url, text="Zed Quist is coming.")
    assert "Mentions Zed Quist, who first appears at 1x4; move the reveal to 1x4 or later." in body
    assert ReviewerNote.objects.get(pk=note.pk).text == "NOTE-saga-1x2"


def test_the_check_knows_aliases(client, editor, show):
    Character.objects.filter(name="Zed Quist").update(aliases="Z-man, Zeddy")
    client.force_login(editor)
    recap = Recap.objects.get(text="RECAP-saga-1x2")
    url = reverse("admin:companion_recap_change", args=[recap.pk])
    body = admin_post(client, url, text="Zeddy waits.")
    assert "Mentions Zeddy, who first appears at 1x4" in body


def test_check_spoilers_lists_early_mentions_and_fails(show, capsys):
    call_command("check_spoilers", "saga")
    Recap.objects.filter(text="RECAP-saga-1x2").update(text="Zed Quist was here.")
    with pytest.raises(CommandError, match="1 mention"):
        call_command("check_spoilers", "saga")
    assert "mentions Zed Quist, who first appears at 1x4" in capsys.readouterr().out


def test_the_demo_content_names_nobody_before_they_appear(db):
    call_command("load_demo", verbosity=0)
    call_command("check_spoilers", "for-all-mankind")


def test_a_character_with_an_inexact_first_appearance_is_not_said_to_debut(client, show, bob):
    Character.objects.filter(name="Ada").update(first_appearance_exact=False)
    client.force_login(bob)
    body = page(client, "/shows/saga/cast/ada/")
    assert "In the companion from" in body and "First seen in" not in body
    assert "First seen in" in page(client, "/shows/saga/cast/zed-quist/")
