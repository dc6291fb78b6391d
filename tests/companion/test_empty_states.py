"""Empty states say what is missing and, for editors, where to add it; no heading stands alone."""

from companion.models import Character, Recap, ReviewerNote
from tests.factories import episode
from tests.helpers import mask_csrf


def squashed(response) -> str:
    return " ".join(response.content.decode().split())


def test_an_episode_with_nothing_written_says_so_by_its_code(alice_client, show):
    second = episode(show, "1x02")
    Recap.objects.filter(episode=second).delete()
    ReviewerNote.objects.filter(episode=second).delete()
    body = squashed(alice_client.get("/shows/saga/s1/e2/"))
    assert "Nothing is written for S1E2 yet: no recap and no reviewers' notes." in body
    assert "Reviewers' notes</h2>" not in body and ">Recap</h2>" not in body
    assert "/admin/" not in body


def test_a_missing_recap_and_a_hidden_one_read_the_same(alice_client, show):
    second = episode(show, "1x02")
    Recap.objects.filter(episode=second).delete()
    missing = mask_csrf(alice_client.get("/shows/saga/s1/e2/").content.decode())
    Recap.objects.create(episode=second, reveal_at=episode(show, "2x03"), text="LATE-RECAP")
    hidden = mask_csrf(alice_client.get("/shows/saga/s1/e2/").content.decode())
    assert "No recap is written for S1E2 yet." in missing
    assert hidden == missing


def test_editors_get_a_link_to_add_what_is_missing(client, editor, show):
    Recap.objects.filter(episode=episode(show, "1x02")).delete()
    client.force_login(editor)
    client.post("/shows/saga/as-of/", {"episode": "2x5"})
    body = squashed(client.get("/shows/saga/s1/e2/"))
    pk = episode(show, "1x02").pk
    assert f'href="/admin/companion/recap/add/?episode={pk}">add a recap of S1E2' in body
    with_recap = squashed(client.get("/shows/saga/s1/e3/"))
    assert "add a recap" not in with_recap and "add a reviewer's note" in with_recap


def test_story_page_leaves_out_where_everyone_stands_when_nobody_is_visible(alice_client, show):
    assert "Where everyone stands" in alice_client.get("/shows/saga/story/").content.decode()
    Character.objects.filter(show=show).delete()
    body = alice_client.get("/shows/saga/story/").content.decode()
    assert "Where everyone stands" not in body and "RECAP-saga-1x1" in body


def test_cast_says_nobody_is_written_up_by_the_safe_point(alice_client, show):
    Character.objects.filter(show=show).delete()
    body = squashed(alice_client.get("/shows/saga/cast/"))
    assert "Nobody is written up for the episodes up to S1E3 yet." in body
