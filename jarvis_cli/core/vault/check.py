"""Checking one key with its provider: GET /models through the OpenAI-compatible adapter.

Messages never hold a key value: only provider names, labels and fingerprints, and
upstream messages pass through `redact` (the key was registered as a secret).
"""

from __future__ import annotations

from jarvis_cli.core.errors import (
    AuthError,
    ExitCode,
    JarvisError,
    ProviderAuthError,
    ProviderError,
)
from jarvis_cli.core.providers.presets import ProviderSpec
from jarvis_cli.core.redact import fingerprint, redact, register_secret


class KeyRejectedError(AuthError):
    """The provider answered 401/403 for a key (exit 5)."""


class KeyCheckFailedError(JarvisError):
    """A key could not be checked (provider down, bad response); carries the provider's code."""

    def __init__(self, message: str, *, exit_code: ExitCode, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.exit_code = exit_code


def check_key(spec: ProviderSpec, value: str) -> None:
    """Ask the provider (GET /models) whether it accepts `value`.

    KeyRejectedError (exit 5) on 401/403; KeyCheckFailedError with the provider
    error's exit code when the provider could not be asked.
    """
    from jarvis_cli.core.providers.openai_compat import OpenAICompatAdapter

    register_secret(value)
    fp = fingerprint(value)
    try:
        OpenAICompatAdapter(spec, value).validate_key()
    except ProviderAuthError as exc:
        raise KeyRejectedError(
            f"{spec.name} rejected the key {fp}"
            + (f" (HTTP {exc.status_code})" if exc.status_code else ""),
            hint="check the key; nothing was changed",
        ) from None
    except ProviderError as exc:
        raise KeyCheckFailedError(
            f"could not check the key {fp} with {spec.name}: {redact(exc.message)}",
            exit_code=exc.exit_code,
            hint="nothing was changed; retry later, or store it unchecked with --no-validate",
        ) from None
