"""A viewer who forgot their password gets a link by email, sets a new one and logs in with it."""

import re

import pytest
from playwright.sync_api import expect

from tests.helpers import log_in

pytestmark = pytest.mark.browser


def test_password_reset_from_login_page_to_logging_in_with_the_new_password(
    page, alice, mailoutbox, live_server
):
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("alice@example.com")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    assert len(mailoutbox) == 1
    email = mailoutbox[0]
    assert email.to == ["alice@example.com"]
    link = re.search(r"https?://\S+/accounts/password/reset/\S+/", email.body).group(0)
    assert link.startswith(live_server.url)

    page.goto(link)
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    page.get_by_label("New password:", exact=True).fill("a-brand-new-passphrase")
    page.get_by_label("New password confirmation").fill("a-brand-new-passphrase")
    page.get_by_role("button", name="Set my password").click()
    expect(page.get_by_role("heading", name="Password set")).to_be_visible()

    # The link works once only.
    page.goto(link)
    expect(page.get_by_text("This reset link is invalid or has already been used.")).to_be_visible()

    log_in(page, "alice", "a-brand-new-passphrase")
    expect(page.get_by_text("S1E3 · 3 of 10 watched")).to_be_visible()
