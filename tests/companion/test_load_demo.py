"""`manage.py load_demo`, which `make run` calls on every start: it never undoes an editor's work."""

import io
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from companion.models import Character, Episode, ReviewerNote, Show, SpoilerReport
from tests.factories import make_user

ROOT = Path(__file__).resolve().parent.parent.parent


def load_demo(*args: str) -> str:
    out = io.StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def edited_demo(db):
    """The demo show after an editor added a character, rewrote a synopsis and a viewer reported a note."""
    load_demo()
    show = Show.objects.get(slug="for-all-mankind")
    first = Episode.objects.get(show=show, season_number=1, number=1)
    Character.objects.create(show=show, name="Added By Editor", first_appearance=first)
    Episode.objects.filter(pk=first.pk).update(synopsis="The editor's own synopsis.")
    note = ReviewerNote.objects.create(
        episode=first, reveal_at=first, text="An editor's note.", outlet="Editor Weekly"
    )
    SpoilerReport.objects.create(
        reporter=make_user("reporter"), kind="note", note=note, reporter_safe_point=first
    )
    return show


def test_an_editors_added_character_survives_a_second_load_demo(edited_demo):
    out = load_demo()
    assert Character.objects.filter(name="Added By Editor").exists()
    assert Episode.objects.get(show=edited_demo, season_number=1, number=1).synopsis == (
        "The editor's own synopsis."
    )
    assert SpoilerReport.objects.count() == 1
    assert "already loaded" in out and "load_demo --reset" in out
    assert "viewer / watching-at-3x10" in out


def test_load_demo_does_nothing_when_only_the_demo_accounts_exist(db):
    make_user("viewer")
    out = load_demo()
    assert "already loaded" in out
    assert not Show.objects.exists()


def test_reset_says_what_it_removes_and_changes_nothing_unconfirmed(edited_demo, monkeypatch):
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    out = io.StringIO()
    with pytest.raises(CommandError, match="Nothing changed"):
        call_command("load_demo", "--reset", stdout=out)
    said = out.getvalue()
    assert "remove 1 character, 1 reviewer note, 1 spoiler report" in said
    assert "undo edits to 1 episode" in said
    assert Character.objects.filter(name="Added By Editor").exists()
    assert SpoilerReport.objects.count() == 1


def test_reset_without_a_terminal_asks_and_stops(edited_demo, monkeypatch):
    def no_terminal(prompt):
        raise EOFError

    monkeypatch.setattr("builtins.input", no_terminal)
    with pytest.raises(CommandError, match="--yes"):
        load_demo("--reset")
    assert Character.objects.filter(name="Added By Editor").exists()


def test_reset_with_yes_restores_the_file(edited_demo):
    out = load_demo("--reset", "--yes")
    assert "remove 1 character" in out and "Imported For All Mankind" in out
    assert not Character.objects.filter(name="Added By Editor").exists()
    assert not SpoilerReport.objects.exists()
    assert Episode.objects.get(show=edited_demo, season_number=1, number=1).synopsis != (
        "The editor's own synopsis."
    )


def test_reset_of_an_unedited_demo_removes_nothing_and_asks_nothing(db, monkeypatch):
    load_demo()
    monkeypatch.setattr("builtins.input", lambda prompt: pytest.fail("asked"))
    assert "removes nothing" in load_demo("--reset")


def test_make_run_serves_on_the_port_given():
    dry = subprocess.run(
        ["make", "-n", "run", "PORT=8001"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert "runserver 127.0.0.1:8001" in dry
    assert "load_demo --reset" not in dry


def test_make_demo_reset_reimports_explicitly():
    dry = subprocess.run(
        ["make", "-n", "demo-reset"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert "load_demo --reset" in dry


def test_the_readme_gives_the_demo_passwords_the_port_and_where_mail_goes():
    from companion.management.commands.load_demo import DEMO_ACCOUNTS

    readme = " ".join((ROOT / "README.md").read_text().split())
    for username, spec in DEMO_ACCOUNTS.items():
        assert f"| `{username}` | `{spec['password']}` |" in readme
    assert "make run PORT=8001" in readme
    assert "password-reset mail" in readme and "console" in readme
    assert "make demo-reset" in readme
