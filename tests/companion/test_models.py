import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from companion.models import (
    NOTHING_SAFE,
    Character,
    CharacterState,
    Episode,
    Recap,
    ReviewerNote,
    SafePoint,
    Watch,
)
from tests.factories import episode, make_character, make_show


def at(show, code: str) -> SafePoint:
    return SafePoint(episode(show, code))


@pytest.fixture
def other(db):
    return make_show("other", seasons=1, episodes=2)


def test_recaps_visible_only_up_to_the_safe_point(show):
    texts = set(Recap.objects.visible_at(at(show, "1x03")).values_list("text", flat=True))
    assert texts == {"RECAP-saga-1x1", "RECAP-saga-1x2", "RECAP-saga-1x3"}


def test_notes_follow_their_own_reveal_point_not_their_episode(show):
    late = ReviewerNote.objects.create(
        episode=episode(show, "1x01"), reveal_at=episode(show, "2x01"), text="LATE", outlet="Paper"
    )
    assert late not in ReviewerNote.objects.visible_at(at(show, "1x05"))
    assert late in ReviewerNote.objects.visible_at(at(show, "2x01"))


def test_characters_hidden_until_first_appearance(show):
    names = set(Character.objects.visible_at(at(show, "1x03")).values_list("name", flat=True))
    assert names == {"Ada"}


def test_character_states_visible_up_to_safe_point(show):
    statuses = list(
        CharacterState.objects.visible_at(at(show, "1x05"))
        .filter(character__name="Ada")
        .values_list("status", flat=True)
    )
    assert statuses == ["alive", "missing"]


def test_latest_state_is_the_newest_safe_one(show):
    ada = Character.objects.with_states_at(at(show, "2x01")).get(name="Ada")
    assert ada.latest_state.status == "missing"
    ada = Character.objects.with_states_at(at(show, "2x02")).get(name="Ada")
    assert ada.latest_state.status == "dead"


def test_nothing_is_visible_without_a_safe_point(show):
    for model in (Recap, ReviewerNote, Character, CharacterState):
        assert not model.objects.visible_at(NOTHING_SAFE).exists()


def test_another_shows_safe_point_reveals_nothing_here(show, other):
    assert not Recap.objects.for_show(show).visible_at(at(other, "1x02")).exists()
    assert not Character.objects.filter(show=show).visible_at(at(other, "1x02")).exists()


def test_reveal_point_from_another_show_is_rejected(show, other):
    note = ReviewerNote(
        episode=episode(show, "1x01"), reveal_at=episode(other, "1x02"), text="x", outlet="Paper"
    )
    with pytest.raises(ValidationError) as error:
        note.full_clean()
    assert "belongs to Other" in str(error.value)


def test_state_before_first_appearance_is_rejected(show):
    zed = Character.objects.get(name="Zed Quist")
    state = CharacterState(character=zed, reveal_at=episode(show, "1x02"), status="alive")
    with pytest.raises(ValidationError, match="cannot be earlier than 1x4"):
        state.full_clean()


def test_character_first_appearance_in_another_show_is_rejected(show, other):
    character = Character(
        show=show, name="Stray", slug="stray", first_appearance=episode(other, "1x01")
    )
    with pytest.raises(ValidationError, match="Pick an episode of Saga"):
        character.full_clean()


def test_recap_reveal_defaults_to_its_episode_and_cannot_be_earlier(show):
    recap = Recap.objects.get(episode=episode(show, "1x02"))
    assert recap.reveal_at == recap.episode
    recap.reveal_at = episode(show, "1x01")
    with pytest.raises(ValidationError):
        recap.full_clean()


def test_database_allows_one_watch_per_user_and_episode(show, alice):
    with pytest.raises(IntegrityError):
        Watch.objects.create(user=alice, episode=episode(show, "1x01"))


def test_database_requires_a_source_on_every_note(show):
    with pytest.raises(IntegrityError):
        ReviewerNote.objects.create(
            episode=episode(show, "1x01"), reveal_at=episode(show, "1x01"), text="anonymous"
        )


def test_untitled_episode_displays_its_number(show):
    first = episode(show, "1x01")
    first.title = ""
    assert first.display_title == "Episode 1"
    assert Episode.objects.get(pk=first.pk).code == "1x1"


def test_admin_rejects_a_cross_show_reveal_point_with_a_message(client, editor, show, other):
    client.force_login(editor)
    ada = Character.objects.get(name="Ada")
    response = client.post(
        "/admin/companion/characterstate/add/",
        {"character": ada.pk, "reveal_at": episode(other, "1x01").pk, "status": "alive"},
    )
    assert response.status_code == 200
    assert "belongs to Other, not Saga" in response.content.decode()
    assert CharacterState.objects.filter(character=ada).count() == 3


def test_admin_inline_offers_only_the_shows_episodes(client, editor, show, other):
    client.force_login(editor)
    ada = Character.objects.get(name="Ada")
    page = client.get(f"/admin/companion/character/{ada.pk}/change/").content.decode()
    # Labelled by code and title: the show is the character's own.
    assert ">2x5 TITLE-saga-2x5</option>" in page
    assert "TITLE-other" not in page


def test_admin_finds_episodes_by_code(client, editor, show):
    client.force_login(editor)
    response = client.get(
        "/admin/autocomplete/",
        {
            "term": "2x3",
            "app_label": "companion",
            "model_name": "characterstate",
            "field_name": "reveal_at",
        },
    )
    assert [r["text"] for r in response.json()["results"]] == ["Saga 2x3"]


def test_a_note_is_cited_by_author_outlet_and_title_with_only_the_parts_it_has():
    full = ReviewerNote(author="Ann <Critic>", outlet="The Daily Test", article_title="Liftoff")
    assert full.citation == "Ann &lt;Critic&gt;, <cite>The Daily Test</cite>: “Liftoff”"
    assert ReviewerNote(article_title="Liftoff").citation == "“Liftoff”"
    assert ReviewerNote(outlet="The Daily Test").citation == "<cite>The Daily Test</cite>"


def test_an_episodes_links_are_the_ones_its_routes_reverse_to(show):
    from django.urls import reverse

    special = show.episodes.filter(season_number=0).first() or episode(show, "1x1")
    for shown in [episode(show, "2x3"), special]:
        args = [show.slug, shown.season_number, shown.number]
        assert shown.url == reverse("episode-detail", args=args)
        assert shown.watch_url == reverse("episode-watch", args=args)
        assert shown.unwatch_url == reverse("episode-unwatch", args=args)
        assert shown.watch_up_to_url == reverse("episode-watch-up-to", args=args)
        assert shown.confirm_up_to_url == reverse("episode-confirm-up-to", args=args)
        assert shown.notes_url == reverse("episode-notes", args=args)
        assert shown.show_anyway_url == reverse("episode-show-anyway", args=args)
        # The episode page's discussion loads from beneath it (templates/discussion/thread.html).
        assert f"{shown.url}discussion/" == reverse("episode-thread", args=args)


def test_links_to_a_character_and_to_reports_are_the_ones_their_routes_reverse_to(show):
    from django.urls import reverse

    character = make_character(show, "Bea", "1x01", {"1x02": "alive"})
    state = character.states.get()
    assert character.get_absolute_url() == reverse("character-detail", args=[show.slug, "bea"])
    report = ["report-spoiler", show.slug]
    assert state.report_url == reverse(report[0], args=[*report[1:], "state", state.public_id])
    note = ReviewerNote(episode=episode(show, "1x02"), public_id="abc")
    assert note.report_url == reverse(report[0], args=[*report[1:], "note", "abc"])
    recap = Recap(episode=episode(show, "1x02"), public_id="def")
    assert recap.report_url == reverse(report[0], args=[*report[1:], "recap", "def"])


def test_a_shows_pages_are_where_their_routes_reverse_to(show):
    """The show's navigation builds them from its URL (companion/_show_nav.html)."""
    from django.urls import reverse

    for name in ["previously", "story", "cast", "search"]:
        assert f"{show.url}{name}/" == reverse(name, args=[show.slug])


def test_the_frames_links_are_the_ones_their_routes_reverse_to():
    from django.templatetags.static import static
    from django.urls import reverse

    from companion.templatetags.links import asset, link

    for name in ["show-list", "browse", "calendar", "preferences", "logout", "login", "signup"]:
        assert link(name) == reverse(name)
    assert asset("css/site.css") == static("css/site.css")
