"""Rows read by companion/sql.py's own statements become models as the ORM's would."""

from django.db.models import signals

from companion import sql
from companion.models import Episode, Show
from tests.factories import episode


def read_back(model, pk):
    found = sql.whole_rows(
        model,
        f"SELECT {sql.columns(model, 't')} FROM {model._meta.db_table} t WHERE t.id = %s",
        [pk],
    )
    (instance,) = found
    return instance


def test_a_row_reads_as_the_orm_reads_it_and_saves_as_an_update(show):
    first = episode(show, "1x01")
    built = read_back(Episode, first.pk)
    orm = Episode.objects.get(pk=first.pk)
    for field in Episode._meta.concrete_fields:
        assert getattr(built, field.attname) == getattr(orm, field.attname), field.name
    assert built._state.adding is False and built._state.db == orm._state.db
    built.title = "Renamed"
    built.save()
    assert Episode.objects.filter(show=show).count() == show.episodes.count()
    assert Episode.objects.get(pk=first.pk).title == "Renamed"


def test_a_model_with_an_init_listener_is_still_built_through_init(show):
    seen = []

    def listener(sender, instance, **kwargs):
        seen.append(instance.pk)

    sql._plain.cache_clear()
    signals.post_init.connect(listener, sender=Show)
    try:
        built = read_back(Show, show.pk)
    finally:
        signals.post_init.disconnect(listener, sender=Show)
        sql._plain.cache_clear()
    assert seen == [show.pk]
    assert built.slug == show.slug
