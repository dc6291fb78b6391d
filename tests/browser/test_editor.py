"""An editor adds a character state in the admin; a viewer sees it only once they reach its reveal point."""

import pytest
from playwright.sync_api import expect

from companion.models import CharacterState
from tests.helpers import log_in

pytestmark = pytest.mark.browser

NEW_STATE = "STATE-Ada-1x05-from-the-admin"


def pick_autocomplete(page, field: str, search: str, choice: str) -> None:
    """Choose in one of the admin's select2 autocomplete boxes, as an editor would."""
    page.locator(f"#id_{field} + .select2 .select2-selection").click()
    page.locator(".select2-search__field").fill(search)
    page.get_by_role("option", name=choice).click()


def test_state_added_in_admin_appears_for_viewer_only_after_its_reveal_episode(
    new_context, editor, alice, show
):
    admin = new_context().new_page()
    log_in(admin, "editor", next="/admin/companion/characterstate/add/")
    expect(admin.get_by_role("heading", name="Add character state")).to_be_visible()
    pick_autocomplete(admin, "character", "Ada", "Ada")
    pick_autocomplete(admin, "reveal_at", "1x5", "Saga 1x5")
    admin.get_by_label("Status").select_option("Imprisoned")
    admin.get_by_label("Location").fill("the brig")
    admin.get_by_label("Description").fill(NEW_STATE)
    admin.get_by_role("button", name="Save", exact=True).click()
    expect(admin.get_by_text("was added successfully")).to_be_visible()
    assert CharacterState.objects.filter(
        description=NEW_STATE, reveal_at__season_number=1, reveal_at__number=5
    ).exists()

    viewer = new_context().new_page()
    log_in(viewer, "alice")
    viewer.goto("/shows/saga/cast/ada/")
    expect(viewer.get_by_text("STATE-Ada-1x03")).to_be_visible()
    expect(viewer.get_by_text(NEW_STATE)).to_have_count(0)

    # Watching 1x5 with 1x4 still unwatched leaves the safe point at 1x3.
    viewer.goto("/shows/saga/s1/e5/")
    viewer.get_by_role("button", name="Mark watched").click()
    # The page says why the content stays hidden, not "watch this episode" beside "✓ Watched".
    expect(viewer.get_by_role("heading", name="You have not watched S1E4 yet")).to_be_visible()
    expect(viewer.get_by_text(NEW_STATE)).to_have_count(0)

    viewer.goto("/shows/saga/s1/e4/")
    viewer.get_by_role("button", name="Mark watched").click()
    # Wait for the mark to land before leaving the page: a click away can cancel it.
    expect(viewer.get_by_text("you are now safe up to S1E5")).to_be_visible()
    viewer.get_by_role("link", name="S1E5", exact=False).click()
    expect(viewer.get_by_role("region", name="Characters in this episode")).to_contain_text(
        NEW_STATE
    )

    viewer.goto("/shows/saga/cast/ada/")
    expect(viewer.get_by_text(NEW_STATE)).to_be_visible()
    expect(viewer.get_by_text("· the brig")).to_be_visible()
