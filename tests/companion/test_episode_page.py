"""The episode page says why its content is hidden, lists who is in it once, folds a long run of
notes, and reveals a title or synopsis hidden by preference only on purpose (issue 16, 3, 4, 9)."""

import pytest

from companion.models import ReviewerNote
from tests.companion.test_pages import SPOILERS
from tests.factories import episode, make_character, watch
from tests.helpers import HTMX, markers_in, queries_past_the_session


def squashed(response) -> str:
    return " ".join(response.content.decode().split())


def test_an_episode_watched_past_a_gap_names_the_gap_not_watch_this(alice_client, alice, show):
    watch(alice, show, "1x05")
    body = squashed(alice_client.get("/shows/saga/s1/e5/"))
    assert "You have not watched S1E4 yet" in body and "Watch this episode to unlock" not in body
    assert "You have marked S1E5 watched, but its recap" in body
    assert "RECAP-saga-1x5" not in body


def test_the_next_episode_still_says_watch_this_one(alice_client):
    body = squashed(alice_client.get("/shows/saga/s1/e4/"))
    assert "Watch this episode to unlock" in body and "You have not watched" not in body


def test_looking_back_says_so_on_a_later_watched_episode(alice_client):
    alice_client.post("/shows/saga/as-of/", {"episode": "1x1"})
    body = squashed(alice_client.get("/shows/saga/s1/e3/"))
    assert "You are looking back at S1E1" in body and "Watch this episode to unlock" not in body
    assert "Go back to your progress to read them" in body
    assert "RECAP-saga-1x3" not in body
    # Further on, past her own point, it says both.
    later = squashed(alice_client.get("/shows/saga/s2/e1/"))
    assert "You are looking back at S1E1" in later and "you have not watched S1E4 yet" in later
    assert not [m for m in SPOILERS + ["RECAP-saga-1x2"] if m in later]


def test_one_list_of_characters_each_marked_new_or_with_their_state(client, bob, show):
    make_character(show, "Yan", "1x03", {"1x03": "alive"})
    client.force_login(bob)
    body = client.get("/shows/saga/s1/e3/").content.decode()
    people = body[
        body.index('id="people-heading"') : body.index(
            "</section>", body.index('id="people-heading"')
        )
    ]
    assert people.count(">Ada</a>") == 1 and people.count(">Yan</a>") == 1
    ada = people[people.index(">Ada</a>") : people.index(">Yan</a>")]
    assert "STATE-Ada-1x03" in ada and "badge new" not in ada
    assert 'badge new">new<' in people[people.index(">Yan</a>") :]
    # A state from a later episode is not "as of" this one, even for a viewer at the finale.
    assert "STATE-Ada-2x02" not in people and "Zed Quist" not in people


def test_more_than_five_notes_fold_under_more_notes(alice_client, show):
    first = episode(show, "1x01")
    for n in range(6):
        ReviewerNote.objects.create(episode=first, reveal_at=first, text=f"EXTRA-{n}", outlet="P")
    ReviewerNote.objects.create(
        episode=first, reveal_at=episode(show, "2x01"), text="LATE", outlet="P"
    )
    body = squashed(alice_client.get("/shows/saga/s1/e1/"))
    assert "More notes (2)</summary>" in body
    assert body.index("EXTRA-3") < body.index("More notes (2)")
    assert "EXTRA-4" not in body and "LATE" not in body
    assert 'hx-get="/shows/saga/s1/e1/notes/"' in body
    assert 'href="/shows/saga/s1/e1/notes/">All 7 reviewers\' notes on S1E1' in body
    unfolded = squashed(
        alice_client.get("/shows/saga/s1/e1/notes/", headers={"HX-Request": "true"})
    )
    assert "EXTRA-4" in unfolded and "EXTRA-5" in unfolded
    assert "EXTRA-3" not in unfolded and "LATE" not in unfolded and "<html" not in unfolded
    page = squashed(alice_client.get("/shows/saga/s1/e1/notes/"))
    assert all(f"EXTRA-{n}" in page for n in range(6)) and "NOTE-saga-1x1" in page
    assert "LATE" not in page


def test_the_notes_of_an_unwatched_episode_read_as_none_written(alice_client, show):
    page = squashed(alice_client.get("/shows/saga/s2/e1/notes/"))
    assert "NOTE-saga-2x1" not in page
    assert "No reviewer has written about S2E1 yet." in page


@pytest.fixture
def hiding(alice):
    alice.hide_unwatched_titles = True
    alice.save()
    return alice


def test_a_hidden_title_and_synopsis_have_show_anyway_buttons_that_post(alice_client, hiding):
    body = alice_client.get("/shows/saga/s1/e4/").content.decode()
    assert "TITLE-saga-1x4" not in body and "SYNOPSIS-saga-1x4" not in body
    assert body.count('action="/shows/saga/s1/e4/show-anyway/"') == 2
    assert 'hx-post="/shows/saga/s1/e4/show-anyway/"' in body
    row_page = alice_client.get("/shows/saga/?season=2").content.decode()
    assert 'action="/shows/saga/s2/e1/show-anyway/"' in row_page
    assert 'action="/shows/saga/s1/e3/show-anyway/"' not in row_page, "a watched title is shown"


def test_show_anyway_returns_just_that_text_and_nothing_gated(alice_client, hiding):
    title = alice_client.post("/shows/saga/s2/e5/show-anyway/", {"part": "title"}, **HTMX)
    assert title.content.decode() == '<span class="shown-anyway">“TITLE-saga-2x5”</span>'
    synopsis = alice_client.post("/shows/saga/s2/e5/show-anyway/", {"part": "synopsis"}, **HTMX)
    assert synopsis.content.decode() == '<p class="shown-anyway">SYNOPSIS-saga-2x5</p>'
    page = alice_client.post("/shows/saga/s2/e5/show-anyway/", {"part": "title"})
    assert "TITLE-saga-2x5" in page.content.decode()
    leaked = [
        m for m in SPOILERS if m in markers_in(page) + markers_in(title) + markers_in(synopsis)
    ]
    assert not leaked


def test_show_anyway_never_answers_a_get_or_a_bad_part(alice_client, hiding):
    response = alice_client.get("/shows/saga/s2/e5/show-anyway/?part=title")
    assert response.status_code == 405 and "TITLE-saga-2x5" not in response.content.decode()
    assert alice_client.post("/shows/saga/s2/e5/show-anyway/", {"part": "recap"}).status_code == 404
    assert alice_client.post("/shows/saga/s9/e1/show-anyway/", {"part": "title"}).status_code == 404


def sourced(item, marker: str):
    item.sources = [{"outlet": "Paper", "title": marker, "url": f"https://paper.example/{marker}"}]
    item.save()


def test_sources_show_beside_their_item_and_never_for_a_hidden_one(alice_client, show):
    for code in ("1x03", "1x04"):
        sourced(episode(show, code).recap, f"SOURCE-recap-{code}")
    ada = show.characters.get(name="Ada")
    sourced(ada, "SOURCE-Ada")
    for state in ada.states.select_related("reveal_at"):
        sourced(state, f"SOURCE-Ada-{state.reveal_at.code}")
    ReviewerNote.objects.filter(episode=episode(show, "1x03")).update(
        url="https://paper.example/NOTE-URL-1x03"
    )
    ReviewerNote.objects.filter(episode=episode(show, "1x04")).update(
        url="https://paper.example/NOTE-URL-1x04"
    )
    seen = markers_in(alice_client.get("/shows/saga/s1/e3/"))
    assert "SOURCE-recap-1x03" in seen and "https://paper.example/NOTE-URL-1x03" in seen
    later = markers_in(alice_client.get("/shows/saga/s1/e4/"))
    assert "SOURCE-recap-1x04" not in later and "NOTE-URL-1x04" not in later
    page = markers_in(alice_client.get("/shows/saga/cast/ada/"))
    assert "“SOURCE-Ada”" in page and "SOURCE-Ada-1x3" in page
    assert "SOURCE-Ada-2x2" not in page


def test_characters_whose_first_appearance_is_unsure_get_one_honest_line_not_a_badge_each(
    client, bob, show
):
    from companion.models import Character

    make_character(show, "Yan", "1x03", {"1x03": "alive"})
    make_character(show, "Vic", "1x03")
    make_character(show, "Wes", "1x03")
    Character.objects.filter(name__in=["Yan", "Vic", "Ada"]).update(first_appearance_exact=False)
    client.force_login(bob)
    body = squashed(client.get("/shows/saga/s1/e3/"))
    assert "listed from here" not in body and body.count('badge new">new<') == 1  # Wes
    assert (
        "Vic and Yan are listed from this episode on; the sources do not say whether they "
        "appeared earlier." in body
    )
    # In the first episode there is no earlier one to have appeared in.
    first = squashed(client.get("/shows/saga/s1/e1/"))
    assert "listed from" not in first and "badge new" not in first


def test_when_everyone_is_listed_from_here_the_line_says_so_once(client, bob, show):
    from companion.models import Character

    Character.objects.filter(name="Zed Quist").update(first_appearance_exact=False)
    client.force_login(bob)
    body = squashed(client.get("/shows/saga/s1/e4/"))  # only Zed Quist is in 1x04's list
    assert "Everyone here is listed from this episode on" in body
    assert "listed from here" not in body and "badge new" not in body


def test_the_page_costs_four_queries_with_its_fragment_shared_and_seven_without(alice_client, show):
    # The session (not counted) and user, the show, the safe point (one statement, with the
    # marks past it and the content stamp that keys the shared fragment), the episode with its
    # neighbours and marks; then its notes, people (with their states) and recap.
    assert queries_past_the_session(alice_client, "/shows/saga/s1/e2/") == 7
    assert queries_past_the_session(alice_client, "/shows/saga/s1/e2/") == 4


def test_a_locked_episode_costs_four_queries(alice_client, show):
    # The user, the show, the safe point (with the content stamp the page is shared under), and
    # the episode with its neighbours and marks.
    assert queries_past_the_session(alice_client, "/shows/saga/s2/e1/") == 4
