"""gunicorn's logger with webhook secrets masked: `gunicorn --logger-class` (docs/DEPLOY.md)."""

from __future__ import annotations

from gunicorn.glogging import Logger

from .logs import MaskHookSecrets, mask_secrets


class MaskedLogger(Logger):
    """Access lines ("%(r)s", "%(U)s", any atom) and error lines without a webhook's secret."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        # "Error handling request /api/hooks/…" and the like.
        self.error_log.addFilter(MaskHookSecrets())

    def atoms(self, resp, req, environ, request_time) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        return {
            key: mask_secrets(value) if isinstance(value, str) else value
            for key, value in atoms.items()
        }
