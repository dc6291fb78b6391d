"""Password-reset mail: a few an hour per address and per client, and the same answer every time."""

from datetime import timedelta

from django.test import Client

from tests.factories import make_user
from tests.helpers import mask_csrf

RESET = "/accounts/password/reset/"
PER_ADDRESS = 3
PER_CLIENT = 10


def ask(client, email: str, address: str = "198.51.100.7"):
    response = client.post(RESET, {"email": email}, REMOTE_ADDR=address)
    return response.status_code, response["Location"]


def test_fifteen_requests_for_one_address_send_at_most_three_mails(client, alice, mailoutbox):
    answers = {ask(client, "alice@example.com") for _ in range(15)}
    assert len(mailoutbox) == PER_ADDRESS
    assert {message.to[0] for message in mailoutbox} == {"alice@example.com"}
    # Let through or not, the answer is the same: nobody learns when the limit was reached.
    assert answers == {(302, "/accounts/password/reset/sent/")}


def test_the_address_limit_holds_from_many_clients_and_any_case(alice, mailoutbox):
    for n in range(15):
        ask(Client(), "Alice@Example.com" if n % 2 else "alice@example.com", f"203.0.113.{n}")
    assert len(mailoutbox) == PER_ADDRESS


def test_one_client_cannot_mail_many_addresses(client, db, mailoutbox):
    for n in range(15):
        make_user(f"viewer{n}")
        ask(client, f"viewer{n}@example.com")
    assert len(mailoutbox) == PER_CLIENT
    ask(Client(), "viewer14@example.com", "192.0.2.44")
    assert mailoutbox[-1].to == ["viewer14@example.com"]


def test_unknown_addresses_count_against_the_client_too(client, alice, mailoutbox):
    for n in range(PER_CLIENT):
        ask(client, f"nobody{n}@example.com")
    ask(client, "alice@example.com")
    assert mailoutbox == []


def test_limited_known_and_unknown_addresses_get_the_same_answer(client, alice, bob):
    for _ in range(PER_ADDRESS):
        ask(client, "alice@example.com")
    limited = client.post(RESET, {"email": "alice@example.com"}, follow=True)
    unknown = Client().post(RESET, {"email": "nobody@example.com"}, follow=True)
    known = Client().post(RESET, {"email": "bob@example.com"}, follow=True)
    assert limited.redirect_chain == unknown.redirect_chain == known.redirect_chain
    pages = {mask_csrf(response.content.decode()) for response in (limited, unknown, known)}
    assert len(pages) == 1


def test_an_hour_later_a_mail_goes_again(client, alice, mailoutbox):
    from accounts.models import PasswordResetRequest

    for _ in range(PER_ADDRESS + 1):
        ask(client, "alice@example.com")
    assert len(mailoutbox) == PER_ADDRESS
    PasswordResetRequest.objects.update(
        requested_at=PasswordResetRequest.objects.earliest("requested_at").requested_at
        - timedelta(minutes=61)
    )
    ask(client, "alice@example.com")
    assert len(mailoutbox) == PER_ADDRESS + 1


def test_the_limit_keeps_neither_the_address_nor_the_client_in_the_clear(client, alice):
    from accounts.models import PasswordResetRequest

    ask(client, "alice@example.com")
    row = PasswordResetRequest.objects.values().get()
    stored = " ".join(str(value) for value in row.values())
    assert "alice" not in stored.lower() and "198.51.100.7" not in stored


def test_the_sent_page_says_how_many_links_an_hour(client, alice):
    page = client.post(RESET, {"email": "alice@example.com"}, follow=True).content.decode()
    assert "at most three links an hour" in page
