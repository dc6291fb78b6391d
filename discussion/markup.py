"""Posts are plain text; a part that spoils a later episode is marked `[spoiler 4x10]...[/spoiler]`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from companion.models import parse_code

SPOILER = re.compile(
    r"\[spoiler\s+([^\]\s]{1,12})\s*\](.*?)\[/spoiler\]", re.IGNORECASE | re.DOTALL
)
# Any tag left over once the well-formed spans are taken out: an unclosed or misspelt one.
STRAY_TAG = re.compile(r"\[/?spoiler\b[^\]]*\]?", re.IGNORECASE)


class MarkupError(ValueError):
    """What is wrong with a post's spoiler marks, as a message for its writer."""


@dataclass(frozen=True)
class Part:
    """A run of a post's text; `up_to` is the (season, number) it spoils up to, or None."""

    text: str
    up_to: tuple[int, int] | None = None


def parse(text: str) -> list[Part]:
    """The post's text cut into plain runs and marked spans; MarkupError for a broken mark."""
    parts: list[Part] = []
    at = 0
    for match in SPOILER.finditer(text):
        parts.append(Part(text[at : match.start()]))
        code = parse_code(match[1])
        if code is None:
            raise MarkupError(
                f"“[spoiler {match[1]}]” needs an episode like 4x10: [spoiler 4x10]…[/spoiler]."
            )
        parts.append(Part(match[2], code))
        at = match.end()
    parts.append(Part(text[at:]))
    for part in parts:
        if part.up_to is None and STRAY_TAG.search(part.text):
            raise MarkupError(
                "A spoiler mark is not closed or not well formed: write [spoiler 4x10]…[/spoiler]."
            )
        if part.up_to is not None and STRAY_TAG.search(part.text):
            raise MarkupError("Spoiler marks cannot be put one inside another.")
    return [part for part in parts if part.text]


def codes_in(text: str) -> set[tuple[int, int]]:
    """The episodes a text's well-formed marks spoil up to (for looking them up at once)."""
    return {code for match in SPOILER.finditer(text) if (code := parse_code(match[1])) is not None}
