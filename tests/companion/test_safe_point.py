from companion.models import Watch
from tests.factories import episode, make_show, make_user, watch


def test_nothing_watched_has_no_safe_point(show, outsider):
    assert show.safe_point_for(outsider).episode is None


def test_anonymous_visitor_has_no_safe_point(show):
    from django.contrib.auth.models import AnonymousUser

    assert show.safe_point_for(AnonymousUser()).episode is None


def test_gap_stops_the_safe_point_at_the_last_unbroken_episode(show, outsider):
    watch(outsider, show, "1x01", "1x02", "1x04")
    assert show.safe_point_for(outsider).episode == episode(show, "1x02")


def test_safe_point_runs_across_seasons(show, outsider):
    watch(outsider, show, "1x01", "1x02", "1x03", "1x04", "1x05", "2x01")
    assert show.safe_point_for(outsider).episode == episode(show, "2x01")


def test_a_viewer_deleted_mid_request_has_no_safe_point(show, bob):
    # The request still holds the user it loaded; their rows are gone, so nothing is safe.
    loaded = type(bob).objects.get(pk=bob.pk)
    type(bob).objects.filter(pk=bob.pk).delete()
    assert show.safe_point_for(loaded).episode is None


def test_whole_show_watched_gives_the_finale(show, bob):
    assert show.safe_point_for(bob).episode == episode(show, "2x05")


def test_missing_first_episode_means_nothing_is_safe(show, outsider):
    watch(outsider, show, "1x02", "1x03")
    assert show.safe_point_for(outsider).episode is None


def test_watched_special_alone_is_not_a_safe_point(db):
    show = make_show("specials", seasons=1, episodes=3, specials=1)
    viewer = make_user("viewer")
    watch(viewer, show, "0x01")
    assert show.safe_point_for(viewer).episode is None


def test_another_shows_progress_does_not_count(show, outsider):
    other = make_show("other", seasons=1, episodes=3)
    watch(outsider, other, "1x01", "1x02")
    assert show.safe_point_for(outsider).episode is None
    assert other.safe_point_for(outsider).episode == episode(other, "1x02")


def test_viewer_can_look_back_but_not_ahead(show, alice):
    assert show.safe_point_for(alice, as_of=episode(show, "1x02")).episode == episode(show, "1x02")
    assert show.safe_point_for(alice, as_of=episode(show, "2x05")).episode == episode(show, "1x03")


def test_editor_can_preview_any_point(show, editor):
    assert show.safe_point_for(editor, as_of=episode(show, "2x04")).episode == episode(show, "2x04")


def test_as_of_from_another_show_is_ignored(show, alice):
    other = make_show("other", seasons=1, episodes=3)
    assert show.safe_point_for(alice, as_of=episode(other, "1x01")).episode == episode(show, "1x03")


def test_marking_is_idempotent(show, outsider):
    first = episode(show, "1x01")
    Watch.objects.mark_watched(user=outsider, episode=first)
    Watch.objects.mark_watched(user=outsider, episode=first)
    assert Watch.objects.filter(user=outsider, episode=first).count() == 1


def test_mark_up_to_fills_the_gaps_in_one_go(show, outsider):
    watch(outsider, show, "1x02")
    added = Watch.objects.mark_watched_up_to(user=outsider, episode=episode(show, "2x02"))
    assert added == 6
    assert show.safe_point_for(outsider).episode == episode(show, "2x02")
