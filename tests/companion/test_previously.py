"""Previously on stays short: per episode the recap's opening, a line per change, a few notes."""

from companion.models import CharacterState, Recap, ReviewerNote
from tests.factories import episode, make_character, make_user, watch
from tests.helpers import queries_past_the_session


def squashed(response) -> str:
    return " ".join(response.content.decode().split())


def test_each_recent_episode_gets_an_opening_a_few_notes_and_links_for_the_rest(alice_client, show):
    third = episode(show, "1x03")
    Recap.objects.filter(episode=third).update(text="RECAP-saga-1x3 " + "word " * 200)
    for n in range(4):
        ReviewerNote.objects.create(episode=third, reveal_at=third, text=f"MORE-{n}", outlet="P")
    ReviewerNote.objects.create(
        episode=third, reveal_at=episode(show, "2x1"), text="LATE", outlet="P"
    )
    body = squashed(alice_client.get("/shows/saga/previously/"))
    assert "RECAP-saga-1x3" in body and body.count("word") < 70
    assert "NOTE-saga-1x3" in body and "MORE-1" in body and "MORE-2" not in body
    assert "2 more notes and who is who in S1E3" in body
    assert "LATE" not in body and "RECAP-saga-1x4" not in body


def test_a_change_takes_one_line_and_many_changes_link_to_the_episode(alice_client, show):
    third = episode(show, "1x03")
    for n in range(6):
        make_character(show, f"Extra {n}", "1x01", {"1x03": "alive"})
    body = squashed(alice_client.get("/shows/saga/previously/"))
    assert "PLACE-Ada-1x03" in body and "STATE-Ada-1x03" not in body, "descriptions stay on S1E3"
    assert "2 more changes" in body
    assert CharacterState.objects.filter(reveal_at=third).count() == 7


def test_an_episode_with_nothing_written_says_so_under_its_heading(alice_client, show):
    second = episode(show, "1x02")
    Recap.objects.filter(episode=second).delete()
    ReviewerNote.objects.filter(episode=second).delete()
    assert "Nothing is written for S1E2 yet." in squashed(
        alice_client.get("/shows/saga/previously/")
    )


def test_the_title_up_next_follows_each_viewers_preference_at_the_same_point(client, alice, show):
    hider = make_user("hider", hide_unwatched_titles=True)
    watch(hider, show, "1x01", "1x02", "1x03")
    client.force_login(alice)
    assert "TITLE-saga-1x4" in squashed(client.get("/shows/saga/previously/"))
    client.force_login(hider)
    body = squashed(client.get("/shows/saga/previously/"))
    assert "TITLE-saga-1x4" not in body and "S1E4 Episode 4" in body
    assert "TITLE-saga-1x3" in body, "what the viewer has watched keeps its title"


def test_the_page_costs_three_queries_with_its_catch_up_shared(alice_client, show):
    # The session (not counted) and user, the show, and the safe point (which finds the episode
    # up next and the content stamp that keys the catch-up too); building it reads the recent
    # episodes, recaps, changes, and the notes with their counts.
    assert queries_past_the_session(alice_client, "/shows/saga/previously/") == 7
    assert queries_past_the_session(alice_client, "/shows/saga/previously/") == 3


def test_previously_on_recaps_the_last_episodes_and_who_changed(alice_client):
    body = alice_client.get("/shows/saga/previously/").content.decode()
    assert "RECAP-saga-1x1" in body and "RECAP-saga-1x2" in body and "RECAP-saga-1x3" in body
    # Each change takes one line (who, status, where); its description stays on the episode page.
    assert "PLACE-Ada-1x03" in body and "NOTE-saga-1x3" in body
    assert "Before you start" in body and "S1E4" in body
    assert "RECAP-saga-1x4" not in body and "NOTE-saga-1x4" not in body and "Zed Quist" not in body


def test_previously_on_respects_hidden_titles(alice_client, alice):
    alice.hide_unwatched_titles = True
    alice.save()
    assert "TITLE-saga-1x4" not in alice_client.get("/shows/saga/previously/").content.decode()


def test_previously_on_with_nothing_watched(client, show, outsider):
    client.force_login(outsider)
    body = client.get("/shows/saga/previously/").content.decode()
    assert "Nothing to catch up on yet" in body and "RECAP" not in body


def test_what_the_catch_up_puts_in_is_escaped(alice_client, show):
    third = episode(show, "1x03")
    Recap.objects.filter(episode=third).update(text="RECAP <script>x</script> & more")
    make_character(show, "Eve <b>", "1x01", {"1x03": "missing"})
    CharacterState.objects.filter(character__name="Eve <b>").update(location="<i>Moon</i>")
    ReviewerNote.objects.create(episode=third, reveal_at=third, text="<u>NOTE</u>", author="<A>")
    body = alice_client.get("/shows/saga/previously/").content.decode()
    assert "<script>" not in body and "RECAP &lt;script&gt;x&lt;/script&gt; &amp; more" in body
    assert "Eve &lt;b&gt;</a>" in body and "· &lt;i&gt;Moon&lt;/i&gt;</li>" in body
    assert '<span class="badge status-missing">Missing</span>' in body
    assert "&lt;u&gt;NOTE&lt;/u&gt;" in body and "— &lt;A&gt;" in body
    assert 'href="/shows/saga/cast/eve-&lt;b&gt;/"' in body
