"""The story's entries and notes, built in Python (companion/views/story.py), read as the
templates would render them, escaped alike."""

import importlib

from django.template.loader import render_to_string

from companion.models import Recap, ReviewerNote
from tests.factories import episode

story = importlib.import_module("companion.views.story")
note_html = importlib.import_module("companion.templatetags.notes").note_html


def test_a_note_reads_byte_for_byte_as_its_template_renders_it(show):
    first = episode(show, "1x01")
    notes = [
        ReviewerNote.objects.create(
            episode=first, reveal_at=first, text="One line.", outlet="Paper"
        ),
        ReviewerNote.objects.create(
            episode=first,
            reveal_at=first,
            text="First <b>para</b> & more.\n\nSecond\nwith a break 'quoted' \"too\".",
            author="Ann <Critic>",
            outlet='The "Daily" & Co',
            article_title="Lift<off>",
            url="https://example.com/a?b=1&c=<2>",
        ),
        ReviewerNote.objects.create(
            episode=first, reveal_at=first, text="Only a title.", article_title="T & T"
        ),
    ]
    for note in ReviewerNote.objects.filter(pk__in=[n.pk for n in notes]).select_related(
        "episode__show"
    ):
        assert note_html(note) == render_to_string("companion/_note.html", {"note": note})


def test_an_entrys_recap_title_and_notes_are_escaped(alice_client, show):
    first = episode(show, "1x01")
    first.title = "Fire & <Ice>"
    first.save()
    Recap.objects.filter(episode=first).update(text="RECAP <script>x</script>\n\nMore & more")
    ReviewerNote.objects.create(episode=first, reveal_at=first, text="<i>NOTE</i>", outlet="<cite>")
    body = alice_client.get("/shows/saga/story/").content.decode()
    assert "<script>x</script>" not in body and "RECAP &lt;script&gt;x&lt;/script&gt;" in body
    assert "<p>More &amp; more</p>" in body
    assert "S1E1 Fire &amp; &lt;Ice&gt;</a></h3>" in body
    assert "<i>NOTE</i>" not in body and "&lt;i&gt;NOTE&lt;/i&gt;" in body
    assert "<cite>&lt;cite&gt;</cite>" in body
