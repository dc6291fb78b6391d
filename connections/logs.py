"""Webhook URLs carry their secret in the path: these keep it out of every log line."""

from __future__ import annotations

import logging
import re

# /api/hooks/<server>/<secret>/: anyone who reads the secret can mark episodes for its viewer.
HOOK_SECRET = re.compile(r"(/api/hooks/[^/\s?#\"]*/)[^/\s?#\"]+")
MASKED = r"\1[secret]"


def mask_secrets(text: str) -> str:
    """The text with the secret of any webhook path in it replaced by "[secret]"."""
    return HOOK_SECRET.sub(MASKED, text)


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
