"""The For All Mankind content file, and the import that loads it."""

import io

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from companion.content import ContentError, dump_show, load_show
from companion.models import Character, CharacterState, Episode, Recap, ReviewerNote, Season, Show
from tests.helpers import FAM


def snapshot():
    """Every row of content, with primary keys, so a no-op import is provably a no-op."""
    return [
        list(model.objects.order_by("pk").values())
        for model in (Show, Season, Episode, Character, CharacterState, Recap, ReviewerNote)
    ]


@pytest.fixture
def fam(db):
    return load_show(FAM.read_text())


def test_for_all_mankind_has_four_seasons_of_ten(fam):
    assert list(fam.seasons.values_list("number", flat=True)) == [1, 2, 3, 4]
    assert fam.episodes.regular().count() == 40
    assert all(season.episodes.count() == 10 for season in fam.seasons.all())


def test_for_all_mankind_has_the_promised_content(fam):
    assert ReviewerNote.objects.filter(episode__show=fam).count() >= 30
    assert Character.objects.filter(show=fam).count() >= 10
    assert Recap.objects.filter(episode__show=fam).exists()
    assert fam.seasons.get(number=1).premiere_date is not None


def test_loading_the_content_twice_changes_nothing(fam):
    before = snapshot()
    load_show(FAM.read_text())
    assert snapshot() == before


def test_load_demo_command_is_idempotent(db):
    call_command("load_demo", stdout=io.StringIO())
    before = snapshot()
    call_command("load_demo", stdout=io.StringIO())
    assert snapshot() == before


def test_every_reveal_point_is_in_its_own_show(fam):
    for state in CharacterState.objects.select_related("character", "reveal_at"):
        assert state.reveal_at.show_id == state.character.show_id
    for note in ReviewerNote.objects.select_related("episode", "reveal_at"):
        assert note.reveal_at.show_id == note.episode.show_id
        assert note.reveal_at.sequence >= note.episode.sequence


def test_no_character_state_before_the_characters_first_appearance(fam):
    for state in CharacterState.objects.select_related("character__first_appearance", "reveal_at"):
        assert state.reveal_at.sequence >= state.character.first_appearance.sequence, state


def test_every_note_has_a_source(fam):
    for note in ReviewerNote.objects.all():
        assert note.outlet or note.author or note.article_title


def test_every_demo_episode_has_its_title_and_air_date(fam):
    assert not fam.episodes.filter(title="").exists()
    assert not fam.episodes.filter(air_date=None).exists()
    assert fam.episodes.get(season_number=1, number=1).title == "Red Moon"


def test_every_demo_recap_character_and_state_names_its_sources(fam):
    for item in (
        *Recap.objects.filter(episode__show=fam),
        *Character.objects.filter(show=fam),
        *CharacterState.objects.filter(character__show=fam),
    ):
        assert item.sources and all(s["outlet"] or s["title"] for s in item.sources), item


def test_a_demo_season_s_period_shows_only_once_the_story_has_reached_its_end(fam):
    # Season 1 runs to 1974, which the finale reaches; season 3's 1992-1995 is whole at 3x10.
    periods = {s.number: (s.period, s.period_revealed_at) for s in fam.seasons.all()}
    assert periods[1][0] == "1969-1974" and periods[1][1].code == "1x10"
    assert periods[3][0] == "1992-1995" and periods[3][1].code == "3x10"


def test_untitled_episodes_display_as_episode_n(db):
    untitled = load_show(WITH_SPECIALS).episodes.filter(title="").first()
    assert untitled.display_title == f"Episode {untitled.number}"


def test_export_round_trips(fam):
    exported = yaml.safe_dump(dump_show(fam), sort_keys=False, allow_unicode=True)
    before = snapshot()
    load_show(exported)
    assert snapshot() == before


BROKEN = """\
show:
  title: Broken
  slug: broken
seasons:
  - number: 1
    episodes:
      - number: 1
      - number: 2
characters:
  - name: Early Bird
    first_appearance: "1x02"
    states:
      - as_of: "1x01"
        status: alive
  - name: Nowhere
    first_appearance: "7x01"
notes:
  - episode: "1x01"
    reveal: "1x01"
    text: no source here
"""


def test_a_bad_file_names_each_problem_with_its_line(db):
    with pytest.raises(ContentError) as error:
        load_show(BROKEN)
    problems = "\n".join(error.value.problems)
    assert "characters[0].states[0].as_of (line 13): 1x01 is earlier" in problems
    assert "characters[1].first_appearance (line 16): episode 7x01 is not in this show" in problems
    assert "notes[0] (line 18): a note needs a source" in problems


def test_a_bad_file_changes_nothing(fam):
    before = snapshot()
    broken = FAM.read_text().replace('reveal: "4x10"', 'reveal: "4x99"', 1)
    with pytest.raises(ContentError):
        load_show(broken)
    assert snapshot() == before


def test_malformed_yaml_is_a_clear_error(db):
    with pytest.raises(ContentError, match="line 3: not valid YAML"):
        load_show("show:\n  title: [unclosed\n")


def test_import_command_reports_problems_and_exits_nonzero(db, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(BROKEN)
    with pytest.raises(CommandError, match="nothing changed"):
        call_command("import_show", str(bad))
    assert not Show.objects.exists()


def test_export_command_prints_the_import_format(fam, capsys):
    call_command("export_show", "for-all-mankind")
    data = yaml.safe_load(capsys.readouterr().out)
    assert data["show"]["title"] == "For All Mankind"
    assert len(data["seasons"]) == 4


WITH_SPECIALS = """\
show:
  title: Specials
  slug: specials
  tvdb_id: "1234"
seasons:
  - number: 1
    period: "1990"
    period_revealed_at: "1x02"
    episodes:
      - number: 1
      - number: 2
  - number: 2
    episodes:
      - number: 1
  - number: 0
    episodes:
      - number: 1
        airs_after: "1x02"
        recap: What the holiday special shows.
      - number: 2
characters:
  - name: Holly Day
    aliases: [Holly]
    first_appearance: "0x01"
    first_appearance_exact: false
notes:
  - episode: "0x01"
    reveal: "2x01"
    outlet: Paper
    text: The special sets up the second season.
"""


def test_specials_take_their_aired_place_and_round_trip(db):
    show = load_show(WITH_SPECIALS)
    assert [e.code for e in show.episodes.order_by("sequence")] == [
        "1x1",
        "1x2",
        "0x1",
        "2x1",
        "0x2",
    ]
    holly = show.characters.get()
    assert holly.names == ["Holly Day", "Holly"] and not holly.first_appearance_exact
    assert show.seasons.get(number=1).period_revealed_at.code == "1x2"
    exported = dump_show(show)
    assert exported["show"]["tvdb_id"] == "1234"
    specials = next(season for season in exported["seasons"] if season["number"] == 0)
    assert specials["episodes"][0]["airs_after"] == "1x2"
    before = snapshot()
    load_show(yaml.safe_dump(exported, sort_keys=False))
    assert snapshot() == before


def test_the_import_refuses_content_before_its_episode_in_story_order(db):
    # 0x01 airs after 1x02, so a note on it cannot be safe at 1x02.
    broken = WITH_SPECIALS.replace('reveal: "2x01"', 'reveal: "1x02"')
    with pytest.raises(ContentError, match="notes\\[0\\].reveal .*1x02 is earlier than"):
        load_show(broken)
    assert not Show.objects.exists()


def test_episode_numbers_are_bounded(db):
    with pytest.raises(ContentError, match="from 1 to 999"):
        load_show(
            WITH_SPECIALS.replace(
                "      - number: 2\n  - number: 2", "      - number: 1002\n  - number: 2"
            )
        )


def test_the_demo_editor_edits_content_but_cannot_read_accounts(client, db):
    call_command("load_demo", stdout=io.StringIO())
    editor = get_user_model().objects.get(username="editor")
    assert editor.is_staff and not editor.is_superuser
    client.force_login(editor)
    assert client.get("/admin/companion/recap/").status_code == 200
    assert client.get("/admin/companion/characterstate/add/").status_code == 200
    for closed in (
        "/admin/accounts/user/",
        "/admin/companion/watch/",
        "/admin/axes/accessattempt/",
    ):
        assert client.get(closed).status_code == 403, closed


SOURCED = """\
show:
  title: Sourced
  slug: sourced
seasons:
  - number: 1
    episodes:
      - number: 1
        recap: The pilot happens.
        recap_sources:
          - outlet: Paper
            title: "Pilot, recapped"
            url: https://paper.example/pilot
      - number: 2
characters:
  - name: Sue Ree
    first_appearance: "1x01"
    sources:
      - outlet: Wiki
        title: Sue Ree
        url: https://wiki.example/Sue_Ree
    states:
      - as_of: "1x02"
        status: missing
        sources:
          - title: "Episode 2, reviewed"
notes:
  - episode: "1x01"
    reveal: "1x01"
    outlet: Paper
    author: Critic
    article_title: "Pilot, recapped"
    url: https://paper.example/pilot
    text: A fine start.
"""


def test_sources_are_stored_and_round_trip(db):
    show = load_show(SOURCED)
    recap = Recap.objects.get(episode__show=show)
    assert recap.sources == [
        {"outlet": "Paper", "title": "Pilot, recapped", "url": "https://paper.example/pilot"}
    ]
    sue = show.characters.get()
    assert sue.sources[0]["url"] == "https://wiki.example/Sue_Ree"
    assert sue.states.get().sources == [{"outlet": "", "title": "Episode 2, reviewed", "url": ""}]
    assert ReviewerNote.objects.get().url == "https://paper.example/pilot"
    exported = dump_show(show)
    assert exported["seasons"][0]["episodes"][0]["recap_sources"] == recap.sources
    assert exported["characters"][0]["sources"] == sue.sources
    assert exported["notes"][0]["url"] == "https://paper.example/pilot"
    before = snapshot()
    load_show(yaml.safe_dump(exported, sort_keys=False))
    assert snapshot() == before


def test_two_states_of_a_character_at_one_episode_are_refused(db):
    second = '          - title: "Episode 2, reviewed"\n      - as_of: "1x02"\n        status: dead'
    with pytest.raises(
        ContentError, match=r"states\[1\]\.as_of .*1x02 already has a state for Sue Ree"
    ):
        load_show(SOURCED.replace('          - title: "Episode 2, reviewed"', second))
    assert not Show.objects.exists()


@pytest.mark.parametrize(
    "old, new, problem",
    [
        (
            "url: https://wiki.example/Sue_Ree",
            "url: javascript:alert(1)",
            "characters[0].sources[0].url (line 20): is not an http(s) address",
        ),
        (
            "            url: https://paper.example/pilot",
            "            url: https://paper.example/pilot\n            author: Someone",
            "seasons[0].episodes[0].recap_sources[0] (line 10): has unknown fields (author)",
        ),
        (
            '          - title: "Episode 2, reviewed"',
            "          - just a title",
            "characters[0].states[0].sources[0] (line 25): must be a mapping",
        ),
        (
            "    sources:\n      - outlet: Wiki",
            "    sources:\n      outlet: Wiki\n      x:",
            "characters[0].sources (line 18): must be a list of sources",
        ),
        (
            "    url: https://paper.example/pilot\n    text",
            "    url: ftp://paper.example/pilot\n    text",
            "notes[0].url (line 32): is not an http(s) address",
        ),
    ],
)
def test_a_malformed_source_list_is_a_clear_error_and_changes_nothing(db, old, new, problem):
    load_show(SOURCED)
    before = snapshot()
    assert SOURCED.count(old) == 1
    with pytest.raises(ContentError) as error:
        load_show(SOURCED.replace(old, new).replace("A fine start.", "Changed."))
    assert problem in "\n".join(error.value.problems)
    assert snapshot() == before
