"""Personal API tokens: shown once, stored only as a SHA-256, revocable, with their last use."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

TOKEN_PREFIX = "sf_"
# Writing last_used_at on every call would make each read a write; a minute is precise enough.
LAST_USED_PRECISION = timedelta(minutes=1)


def hash_token(raw: str) -> str:
    # The token is 256 random bits, so a plain SHA-256 is enough: there is nothing to brute-force.
    return hashlib.sha256(raw.encode()).hexdigest()


def new_secret(prefix: str) -> tuple[str, str]:
    """A new secret (API token, webhook or feed URL) and its hash, the only part we keep."""
    raw = prefix + secrets.token_urlsafe(32)
    return raw, hash_token(raw)


def secret_hash(raw: str, prefix: str) -> str | None:
    """The hash to look a presented secret up by, or None where it cannot be one of ours."""
    if not raw.startswith(prefix) or len(raw) > 100:
        return None
    return hash_token(raw)


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def active(self):
        return self.filter(revoked=False, user__is_active=True)

    def issue(self, *, user, name: str) -> tuple[ApiToken, str]:
        """A new token for the user; the raw value is returned here and never stored."""
        raw, token_hash = new_secret(TOKEN_PREFIX)
        return self.create(user=user, name=name, token_hash=token_hash), raw

    def authenticate(self, raw: str) -> ApiToken | None:
        """The live token with this value, its last use recorded; None for anything else."""
        token_hash = secret_hash(raw, TOKEN_PREFIX)
        if token_hash is None:
            return None
        token = self.active().select_related("user").filter(token_hash=token_hash).first()
        if token is None:
            return None
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return token


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked = models.BooleanField(default=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["revoked", "-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        # The throttle keys on this: one bucket per token, never the token itself.
        return f"api-token-{self.pk}"


class RateWindow(models.Model):
    """The calls counted for one bucket (a token, a viewer, an address guessing) in its window.

    In the database, not the cache: every worker shares it, and it holds while Redis is down. One
    row per bucket, its count starting afresh when a new window begins.
    """

    bucket = models.CharField(max_length=100, unique=True)
    started = models.BigIntegerField(help_text="Unix time the window began.")
    ends = models.BigIntegerField(help_text="Unix time the window ends.")
    calls = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.bucket} at {self.started}: {self.calls}"
