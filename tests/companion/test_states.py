"""A character's state line, built in Python (companion/templatetags/states.py), reads byte for
byte as companion/_state.html renders it, escaped alike."""

import importlib
from itertools import product

from django.template.loader import render_to_string

from companion.models import CharacterState
from tests.factories import episode, make_character

state_html = importlib.import_module("companion.templatetags.states").state_html


def test_a_state_reads_byte_for_byte_as_its_template_renders_it(show):
    character = make_character(show, "Ed Baldwin", "1x01")
    first = episode(show, "1x01")
    texts = ["", "Jamestown & <base>", 'With "Gordo"\'s crew']
    # Not saved: a character has one state per episode, and the line reads only these fields.
    states = [
        CharacterState(
            character=character,
            reveal_at=first,
            status=status,
            location=location,
            affiliation=affiliation,
            description=description,
        )
        for status, location, affiliation, description in product(
            [choice for choice, _ in CharacterState.Status.choices], texts, texts, texts[:2]
        )
    ]
    for state in states:
        assert state_html(state) == render_to_string("companion/_state.html", {"state": state})


def test_what_a_state_shows_is_escaped(show):
    character = make_character(show, "Ed Baldwin", "1x01")
    state = CharacterState.objects.create(
        character=character,
        reveal_at=episode(show, "1x01"),
        location="<script>x</script>",
        description="a & b",
    )
    html = state_html(state)
    assert "<script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html
    assert "a &amp; b" in html
