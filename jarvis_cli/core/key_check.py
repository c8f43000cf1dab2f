"""Checking keys with their providers: GET /models through the OpenAI-compatible adapter.

Messages never hold a key value: only provider names, labels and fingerprints, and
upstream messages pass through `redact` (the key was registered as a secret).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from jarvis_cli.core.errors import (
    AuthError,
    ExitCode,
    JarvisError,
    NoKeyError,
    ProviderAuthError,
    ProviderError,
    VaultError,
)
from jarvis_cli.core.providers.presets import ProviderSpec
from jarvis_cli.core.redact import fingerprint, redact, register_secret

if TYPE_CHECKING:
    from jarvis_cli.core.key_records import KeySource
    from jarvis_cli.core.keys import KeyManager


class KeyRejectedError(AuthError):
    """The provider answered 401/403 for a key (exit 5)."""


class KeyCheckFailedError(JarvisError):
    """A key could not be checked (provider down, bad response); carries the provider's code."""

    def __init__(self, message: str, *, exit_code: ExitCode, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.exit_code = exit_code


@dataclass(frozen=True)
class ValidationResult:
    provider: str
    label: str | None
    source: KeySource
    fingerprint: str
    ok: bool
    result: str  # valid, rejected, failed, vault_error
    message: str | None
    exit_code: int


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


def validate_keys(
    manager: KeyManager, provider: str | None, label: str | None
) -> list[ValidationResult]:
    """Check the keys in use (or one provider's key) and record each result.

    For one provider, a key that does not open raises (exit 4); when checking every
    key, it becomes a `vault_error` result so the other keys are still checked.
    """
    from jarvis_cli.core.key_records import DEFAULT_LABEL

    if provider is None:
        targets = [(k.provider, k.label, k.source) for k in manager.list_keys() if k.in_use]
        return [_validate_one(manager, p, lbl, src, collect=True) for p, lbl, src in targets]
    spec = manager.spec(provider)
    wanted = label or DEFAULT_LABEL
    source: KeySource
    if label is None and manager.env_key(spec) is not None:
        source = "env"
    elif manager.has_key(provider, wanted):
        source = "vault"
    else:
        raise NoKeyError(
            f"no key for {provider}" + (f" with label {label!r}" if label else ""),
            hint=f"set {' or '.join(spec.key_env_vars())}, or run `jarvis keys add {provider}`",
        )
    return [_validate_one(manager, provider, wanted, source, collect=False)]


def _validate_one(
    manager: KeyManager, provider: str, label: str, source: KeySource, *, collect: bool
) -> ValidationResult:
    spec = manager.spec(provider)
    shown_label = None if source == "env" else label
    try:
        if source == "env":
            found = manager.env_key(spec)
            if found is None:  # the variable vanished between list and check
                raise NoKeyError(f"no key for {provider} in the environment any more")
            value = found[1]
        else:
            value = manager.get(provider, label)
    except VaultError as exc:
        if not collect:
            raise
        return ValidationResult(
            provider,
            shown_label,
            source,
            "",
            False,
            "vault_error",
            redact(exc.message),
            int(exc.exit_code),
        )
    fp = fingerprint(value)
    result, message, code = "valid", None, ExitCode.OK
    try:
        check_key(spec, value)
    except KeyRejectedError as exc:
        result, message, code = "rejected", redact(exc.message), exc.exit_code
    except KeyCheckFailedError as exc:
        result, message, code = "failed", redact(exc.message), exc.exit_code
    if source == "vault":
        manager.record_validation(provider, label, result)
    return ValidationResult(
        provider, shown_label, source, fp, result == "valid", result, message, int(code)
    )
