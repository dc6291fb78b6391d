"""What editors see and can do in the admin."""

from django.urls import reverse

from companion.models import CharacterState, Season, Show
from tests.factories import episode
from tests.helpers import FAM


def test_the_season_page_says_what_is_written_for_each_episode(client, editor, show):
    client.force_login(editor)
    season = Season.objects.get(show=show, number=1)
    body = client.get(reverse("admin:companion_season_change", args=[season.pk])).content.decode()
    assert body.count("recap, 1 note") == 5


def test_preview_as_a_viewer_lands_on_that_episodes_page(client, editor, show):
    client.force_login(editor)
    target = episode(show, "2x02")
    page = client.get(reverse("preview", args=["saga", 2, 2])).content.decode()
    assert f'name="next" value="{target.url}"' in page
    response = client.post(
        reverse("set-as-of", args=["saga"]), {"episode": "2x2", "next": target.url}
    )
    assert response.url == target.url
    assert "as of <strong>S2E2</strong>" in client.get(target.url).content.decode()


def form_data(response) -> dict:
    """What the admin's change form would send back unchanged: the form, every inline and their
    management forms, as the browser posts them."""
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    for form in forms:
        for bound in form:
            value = bound.value()
            if value is None or value is False:
                continue
            if value is True:
                value = "on"
            if hasattr(value, "pk"):
                value = value.pk
            data[bound.html_name] = [str(v) for v in value] if isinstance(value, list) else value
    return data


def add_state_inline(data: dict, reveal_at) -> dict:
    """The change form's data with one more character state, added in the inline."""
    n = int(data["states-TOTAL_FORMS"])
    data = data | {
        "states-TOTAL_FORMS": str(n + 1),
        f"states-{n}-reveal_at": str(reveal_at.pk),
        f"states-{n}-status": "alive",
        f"states-{n}-description": "An inline state.",
    }
    return data


def test_the_state_inline_refuses_a_state_before_the_first_appearance(client, editor, show):
    from companion.models import Character

    client.force_login(editor)
    zed = Character.objects.get(name="Zed Quist")  # first appears in 1x04
    url = reverse("admin:companion_character_change", args=[zed.pk])
    data = add_state_inline(form_data(client.get(url)), episode(show, "1x02"))
    response = client.post(url, data)
    assert response.status_code == 200
    assert "cannot be earlier than 1x4" in response.content.decode()
    assert not CharacterState.objects.filter(description="An inline state.").exists()


def test_the_state_inline_checks_against_the_first_appearance_being_saved(client, editor, show):
    from companion.models import Character

    client.force_login(editor)
    ada = Character.objects.get(name="Ada")  # first appears in 1x01, has a state as of 1x01
    url = reverse("admin:companion_character_change", args=[ada.pk])
    data = form_data(client.get(url))
    data["first_appearance"] = str(episode(show, "1x03").pk)
    response = client.post(url, data)
    assert response.status_code == 200
    assert "cannot be earlier than 1x3" in response.content.decode()
    ada.refresh_from_db()
    assert ada.first_appearance == episode(show, "1x01")
    assert CharacterState.objects.filter(character=ada).count() == 3


def test_a_new_character_with_an_early_state_is_refused(client, editor, show):
    from companion.models import Character

    client.force_login(editor)
    url = reverse("admin:companion_character_add")
    data = form_data(client.get(url)) | {
        "show": str(show.pk),
        "name": "Newcomer",
        "slug": "newcomer",
        "first_appearance": str(episode(show, "1x04").pk),
    }
    response = client.post(url, add_state_inline(data, episode(show, "1x02")))
    assert response.status_code == 200
    assert "cannot be earlier than 1x4" in response.content.decode()
    assert not Character.objects.filter(name="Newcomer").exists()


def test_the_state_inlines_as_of_lists_the_shows_episodes_by_code_and_title(client, editor, show):
    from companion.models import Character
    from tests.factories import make_show

    make_show("other", seasons=1, episodes=2)
    client.force_login(editor)
    ada = Character.objects.get(name="Ada")
    body = client.get(reverse("admin:companion_character_change", args=[ada.pk])).content.decode()
    select = body[body.index('name="states-0-reveal_at"') :]
    select = select[: select.index("</select>")]
    assert f'value="{episode(show, "1x1").pk}" selected>1x1 TITLE-saga-1x1</option>' in select
    assert "TITLE-other" not in select and ">Saga " not in select


def test_an_editor_downloads_a_show_that_re_imports(client, editor, show):
    from companion.content import dump_yaml, load_show

    client.force_login(editor)
    change = client.get(reverse("admin:companion_show_change", args=[show.pk])).content.decode()
    url = reverse("admin:companion_show_export", args=[show.pk])
    assert f'href="{url}"' in change and "Export this show" in change
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="saga.yaml"'
    exported = response.content.decode()
    assert exported == dump_yaml(show) and "STATE-Ada-1x03" in exported
    assert load_show(exported) == show


def test_only_staff_export_a_show(client, alice, show):
    url = reverse("admin:companion_show_export", args=[show.pk])
    assert client.get(url).status_code == 302  # to the admin's login
    client.force_login(alice)
    response = client.get(url)
    assert response.status_code == 302 and "STATE-Ada" not in response.content.decode()


def test_a_new_characters_as_of_lists_episodes_under_their_shows_name(client, editor, show):
    from tests.factories import make_show

    make_show("other", seasons=1, episodes=2)
    client.force_login(editor)
    body = client.get(reverse("admin:companion_character_add")).content.decode()
    select = body[body.index('name="states-__prefix__-reveal_at"') :]
    select = select[: select.index("</select>")]
    start = select.index('<optgroup label="Saga">')
    saga = select[start : select.index("</optgroup>", start)]
    assert f'value="{episode(show, "1x4").pk}">1x4 TITLE-saga-1x4</option>' in saga
    assert '<optgroup label="Other">' in select and ">Saga 1x4<" not in select


def test_staff_without_the_right_to_view_shows_cannot_export_one(client, show):
    from tests.factories import make_user

    client.force_login(make_user("intern", is_staff=True))
    response = client.get(reverse("admin:companion_show_export", args=[show.pk]))
    assert response.status_code == 403 and b"STATE-Ada" not in response.content


def test_editor_imports_a_show_in_the_admin(client, editor):
    client.force_login(editor)
    with open(FAM, "rb") as upload:
        response = client.post("/admin/companion/show/import/", {"file": upload})
    assert response.status_code == 302
    assert Show.objects.get(slug="for-all-mankind").episodes.count() == 40


def test_a_bad_file_in_the_admin_lists_problems_and_changes_nothing(client, editor, tmp_path):
    client.force_login(editor)
    bad = tmp_path / "bad.yaml"
    bad.write_text("show:\n  title: Bad\nseasons:\n  - number: one\n")
    with open(bad, "rb") as upload:
        response = client.post("/admin/companion/show/import/", {"file": upload})
    assert "seasons[0].number (line 4): must be a whole number" in response.content.decode()
    assert not Show.objects.filter(title="Bad").exists()


def test_viewers_cannot_import(alice_client, tmp_path):
    response = alice_client.get("/admin/companion/show/import/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
