"""Builders for test content. Every gated text carries a marker so leak tests can look for it."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import connection

from companion.models import (
    Character,
    CharacterState,
    Episode,
    Recap,
    ReviewerNote,
    Season,
    Show,
    Watch,
)


def make_user(username: str, *, password: str = "correct-horse-battery", **fields):
    return get_user_model().objects.create_user(
        username=username, password=password, email=f"{username}@example.com", **fields
    )


def make_show(
    slug: str = "saga",
    *,
    seasons: int = 2,
    episodes: int = 5,
    specials: int = 0,
    title: str | None = None,
) -> Show:
    """A show with titled, synopsised episodes, each with a recap and a reviewer note."""
    show = Show.objects.create(
        title=title or slug.title(), slug=slug, premise=f"The premise of {slug}."
    )
    for number in ([0] if specials else []) + list(range(1, seasons + 1)):
        season = Season.objects.create(show=show, number=number, period=f"Period {number}")
        for n in range(1, (specials if number == 0 else episodes) + 1):
            episode = Episode.objects.create(
                season=season,
                number=n,
                title=f"TITLE-{slug}-{number}x{n}",
                synopsis=f"SYNOPSIS-{slug}-{number}x{n}",
            )
            Recap.objects.create(episode=episode, text=f"RECAP-{slug}-{number}x{n}")
            ReviewerNote.objects.create(
                episode=episode,
                reveal_at=episode,
                text=f"NOTE-{slug}-{number}x{n}",
                outlet="The Daily Test",
                author="Critic",
            )
    show.resequence()
    return show


def make_stamped_show() -> Show:
    """Two seasons of three, a special after 1x2 and one after 2x1; every episode's content stamp
    a power of two of its own, so a sum of stamps names the episodes it took."""
    show = make_show("stamped", seasons=2, episodes=3, specials=2)
    for code, after in (("0x1", "1x2"), ("0x2", "2x1")):
        special = episode(show, code)
        special.airs_after = episode(show, after)
        special.save()
    show.resequence()
    for power, pk in enumerate(show.episodes.order_by("sequence").values_list("pk", flat=True)):
        Episode.objects.filter(pk=pk).update(content_stamp=2**power)
    show.refresh_from_db()
    return show


def episode(show: Show, code: str) -> Episode:
    season, number = (int(part) for part in code.split("x"))
    return Episode.objects.select_related("show").get(
        show=show, season_number=season, number=number
    )


def make_character(
    show: Show, name: str, first: str, states: dict[str, str] | None = None
) -> Character:
    """A character and states keyed by episode code; each state's description is its marker."""
    character = Character.objects.create(
        show=show,
        name=name,
        slug=name.lower().replace(" ", "-"),
        actor=f"Actor of {name}",
        first_appearance=episode(show, first),
    )
    for code, status in (states or {}).items():
        CharacterState.objects.create(
            character=character,
            reveal_at=episode(show, code),
            status=status,
            location=f"PLACE-{name}-{code}",
            description=f"STATE-{name}-{code}",
        )
    return character


def watch(user, show: Show, *codes: str) -> None:
    for code in codes:
        Watch.objects.mark_watched(user=user, episode=episode(show, code))


def watch_by_sql(user, show: Show, code: str) -> None:
    """A watch written in plain SQL, as a script or a fix by hand would: no ORM, no signals."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Watch._meta.db_table} (user_id, episode_id, watched_at) "
            "VALUES (%s, %s, CURRENT_TIMESTAMP)",
            [user.pk, episode(show, code).pk],
        )


def give_images(show: Show, *, stills: tuple[str, ...] = ()) -> dict[str, str]:
    """Artwork as the image job leaves it: a poster, the blurred stand-in, a photo for every
    character and a still for each episode code given; returns the still names by code."""
    import io

    from PIL import Image

    from catalogue.images import POSTER, STILL, blurred, made, store

    def jpeg(seed: str) -> bytes:
        out = io.BytesIO()
        colour = tuple(seed.encode()[-3:])
        Image.new("RGB", (400, 300), colour).save(out, "JPEG")
        return out.getvalue()

    Show.objects.filter(pk=show.pk).update(
        poster=store(made(jpeg(f"{show.slug}p"), POSTER)),
        stand_in=store(blurred(jpeg(f"{show.slug}b"))),
    )
    for character in show.characters.all():
        character.photo = store(made(jpeg(f"{character.slug}ph"), (160, 160)))
        character.save(update_fields=["photo"])
    names = {}
    for code in stills:
        names[code] = store(made(jpeg(f"{show.slug}{code}s"), STILL))
        season, number = (int(part) for part in code.split("x"))
        show.episodes.filter(season_number=season, number=number).update(still=names[code])
    show.content_changed()
    show.refresh_from_db()
    return names
