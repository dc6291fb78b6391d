"""What editors see and can do in the admin."""

from django.urls import reverse

from companion.models import Season
from tests.factories import episode


def test_the_season_page_says_what_is_written_for_each_episode(client, editor, show):
    client.force_login(editor)
    season = Season.objects.get(show=show, number=1)
    body = client.get(reverse("admin:companion_season_change", args=[season.pk])).content.decode()
    assert body.count("recap, 1 note") == 5


def test_preview_as_a_viewer_lands_on_that_episodes_page(client, editor, show):
    client.force_login(editor)
    target = episode(show, "2x02")
    page = client.get(reverse("preview", args=["saga", 2, 2])).content.decode()
    assert f'name="next" value="{target.url}"' in page
    response = client.post(
        reverse("set-as-of", args=["saga"]), {"episode": "2x2", "next": target.url}
    )
    assert response.url == target.url
    assert "as of <strong>S2E2</strong>" in client.get(target.url).content.decode()
