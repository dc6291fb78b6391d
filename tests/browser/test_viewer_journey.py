"""A viewer signs up, logs in and marks episodes; what unlocks appears in place, without a page load."""

import pytest
from playwright.sync_api import expect

from tests.helpers import (
    log_in,
    mark_button,
    no_reload_marker,
    still_same_page,
    unmark_button,
)

pytestmark = pytest.mark.browser


def test_sign_up_log_out_and_log_in_again(page, show):
    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign up").click()
    page.get_by_label("Username").fill("carol")
    page.get_by_label("Email").fill("carol@example.com")
    page.get_by_label("Password:", exact=True).fill("a-long-new-passphrase")
    page.get_by_label("Password confirmation").fill("a-long-new-passphrase")
    page.get_by_role("button", name="Create my account").click()

    expect(page.get_by_text("Welcome! Mark the episodes you have seen")).to_be_visible()
    expect(page.get_by_text("0 of 10 watched")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Log in")
    ).to_be_visible()
    log_in(page, "carol", "a-long-new-passphrase")
    expect(page.get_by_role("heading", name="Your shows")).to_be_visible()


def test_marking_episodes_on_the_show_page_unlocks_recaps_in_place(page, outsider, show):
    log_in(page, "outsider")
    page.goto("/shows/saga/")
    expect(page.get_by_text("0 of 10 watched")).to_be_visible()
    expect(page.get_by_text("Recap of S1E1")).to_have_count(0)
    no_reload_marker(page)

    mark_button(page, "S1E1").click()
    expect(unmark_button(page, "S1E1")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_text("Safe up to S1E1 · 1 of 10 watched")).to_be_visible()
    page.get_by_text("Recap of S1E1").click()
    expect(page.get_by_text("RECAP-saga-1x1")).to_be_visible()

    mark_button(page, "S1E2").click()
    expect(page.get_by_text("Safe up to S1E2 · 2 of 10 watched")).to_be_visible()
    expect(page.get_by_text("Recap of S1E2")).to_be_visible()

    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Watched all up to here (S1E4)").click()
    expect(page.get_by_text("Safe up to S1E4 · 4 of 10 watched")).to_be_visible()
    # Said at the row marked, where the viewer is (and, unseen, in the live region at the top).
    expect(page.locator("li.episode .row-message")).to_have_text(
        "Marked 2 more episodes watched, up to S1E4."
    )
    expect(page.get_by_text("Recap of S1E4")).to_be_visible()
    expect(page.get_by_text("Recap of S1E5")).to_have_count(0)
    assert dialogs == ["Mark every episode up to S1E4 as watched?"]

    # Unmarking 1x2 opens a gap: everything after it locks again.
    unmark_button(page, "S1E2").click()
    expect(page.get_by_text("Safe up to S1E1 · 3 of 10 watched")).to_be_visible()
    expect(page.get_by_text("Recap of S1E1")).to_be_visible()
    for code in ("S1E2", "S1E3", "S1E4"):
        expect(page.get_by_text(f"Recap of {code}")).to_have_count(0)
    assert still_same_page(page), "the page reloaded instead of swapping in place"
    # Without JavaScript these forms post and come back to their own row of this page, not to the
    # URL htmx posted to, nor to the top of the page.
    rows = page.locator("li.episode").evaluate_all(
        """rows => rows.map(row => [row.id,
             [...row.querySelectorAll("input[name=next]")].map(i => i.value)])"""
    )
    assert rows and all(
        nexts and all(n.startswith("/shows/saga/?season=") and n.endswith(f"#{row}") for n in nexts)
        for row, nexts in rows
    ), rows


def test_dismissing_the_confirmation_marks_nothing(page, outsider, show):
    log_in(page, "outsider")
    page.goto("/shows/saga/?season=2")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Watched all up to here (S2E1)").click()
    mark_button(page, "S1E1").click()
    expect(page.get_by_text("Safe up to S1E1 · 1 of 10 watched")).to_be_visible()


def test_episode_page_shows_recap_notes_and_characters_in_place_and_takes_them_back(
    page, alice, show
):
    log_in(page, "alice")
    page.goto("/shows/saga/s1/e4/")
    expect(page.get_by_role("heading", name="Watch this episode to unlock")).to_be_visible()
    expect(page.get_by_text("Zed Quist")).to_have_count(0)
    no_reload_marker(page)

    page.get_by_role("button", name="Mark watched").click()
    expect(page.get_by_role("button", name="✓ Watched · unmark")).to_be_visible()
    expect(page.get_by_text("RECAP-saga-1x4")).to_be_visible()
    expect(page.get_by_text("NOTE-saga-1x4")).to_be_visible()
    people = page.get_by_role("region", name="Characters in this episode")
    # One list: Zed Quist once, marked new, with his state as of this episode.
    zed = people.get_by_role("listitem").filter(has_text="Zed Quist")
    expect(zed).to_have_count(1)
    expect(zed).to_contain_text("new")
    expect(zed).to_contain_text("STATE-Zed Quist-1x04")
    assert still_same_page(page)

    assert set(
        page.locator("input[name=next]").evaluate_all("inputs => inputs.map(i => i.value)")
    ) == {"/shows/saga/s1/e4/"}

    page.get_by_role("button", name="✓ Watched · unmark").click()
    expect(page.get_by_role("heading", name="Watch this episode to unlock")).to_be_visible()
    for gone in ("RECAP-saga-1x4", "NOTE-saga-1x4", "STATE-Zed Quist-1x04", "Zed Quist"):
        expect(page.get_by_text(gone)).to_have_count(0)
    assert still_same_page(page)


def test_watched_everything_up_to_here_on_an_episode_page(page, outsider, show):
    log_in(page, "outsider")
    page.goto("/shows/saga/s2/e2/")
    no_reload_marker(page)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Watched everything up to here").click()
    expect(page.get_by_text("RECAP-saga-2x2")).to_be_visible()
    expect(page.get_by_role("region", name="Characters in this episode")).to_contain_text(
        "STATE-Ada-2x02"
    )
    assert still_same_page(page)

    page.get_by_role("link", name="Who's who").click()
    expect(page.get_by_role("listitem").filter(has_text="Ada")).to_contain_text("Dead")
    expect(page.get_by_role("link", name="Zed Quist")).to_be_visible()


def test_after_a_mark_the_tools_open_with_the_new_point_to_look_back_to(page, outsider, show):
    log_in(page, "outsider")
    page.goto("/shows/saga/")
    no_reload_marker(page)
    mark_button(page, "S1E1").click()
    expect(page.get_by_text("Safe up to S1E1 · 1 of 10 watched")).to_be_visible()
    mark_button(page, "S1E2").click()
    expect(page.get_by_text("Safe up to S1E2 · 2 of 10 watched")).to_be_visible()

    page.get_by_text("Rewatch, catch up or watch together").click()
    look_back = page.get_by_label("Look at the show as of")
    expect(look_back).to_have_value("1x2")
    expect(look_back.locator("option")).to_have_count(2)
    look_back.select_option("1x1")
    page.get_by_role("button", name="Look back").click()
    expect(page.locator("#banner-as-of")).to_contain_text("S1E1")
