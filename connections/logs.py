"""Webhook and calendar feed URLs carry their secret in the path: these keep it out of every log line."""

from __future__ import annotations

import logging
import re

# /api/hooks/<server>/<secret>/: anyone who reads the secret can mark episodes for its viewer.
HOOK_SECRET = re.compile(r"(/api/hooks/[^/\s?#\"]*/)[^/\s?#\"]+")
# /calendar/feed/<secret>.ics (upcoming/): anyone who reads it learns the viewer's shows and progress.
FEED_SECRET = re.compile(r"(/calendar/feed/)[^/\s?#\"]+?(\.ics)")


def mask_secrets(text: str) -> str:
    """The text with the secret of any webhook or calendar feed path in it replaced by "[secret]"."""
    return FEED_SECRET.sub(r"\1[secret]\2", HOOK_SECRET.sub(r"\1[secret]", text))


class MaskHookSecrets(logging.Filter):
    """Masks webhook secrets in a record's message and arguments, for every handler after it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_secrets(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_masked(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _masked(value) for key, value in record.args.items()}
        return True


def _masked(value: object) -> object:
    return mask_secrets(value) if isinstance(value, str) else value
