"""The editors' season and character pages fit a 1280 px screen (issue 16, item 10)."""

from io import StringIO

import pytest
from django.core.management import call_command

from companion.models import Character, Season
from tests.factories import make_user
from tests.helpers import DESKTOP, REPO, log_in

pytestmark = pytest.mark.browser


def test_season_and_character_change_pages_do_not_scroll_sideways(page):
    call_command("load_demo", stdout=StringIO())
    make_user("chief", is_staff=True, is_superuser=True)
    log_in(page, "chief", next="/admin/")
    season = Season.objects.get(show__slug="for-all-mankind", number=3)
    # The character with the most states: the widest inline.
    character = max(Character.objects.filter(show=season.show), key=lambda c: c.states.count())
    folder = REPO / "screenshots" / "desktop"
    folder.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(DESKTOP)
    for name, model, pk in [
        ("season", "season", season.pk),
        ("character", "character", character.pk),
    ]:
        page.goto(f"/admin/companion/{model}/{pk}/change/")
        content, window = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        page.screenshot(path=folder / f"admin-{name}.png", full_page=True)
        assert content <= window, f"the {name} page is {content}px wide in a {window}px window"
