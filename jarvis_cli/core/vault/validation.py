"""`keys validate`: check the keys in use with their providers and record each result.

Messages never hold a key value: only provider names, labels and fingerprints, and
upstream messages pass through `redact` (the key was registered as a secret).
"""

from __future__ import annotations

from dataclasses import dataclass

from jarvis_cli.core.errors import ExitCode, NoKeyError, VaultError
from jarvis_cli.core.redact import fingerprint, redact
from jarvis_cli.core.vault.check import KeyCheckFailedError, KeyRejectedError, check_key
from jarvis_cli.core.vault.keys import KeyManager
from jarvis_cli.core.vault.records import DEFAULT_LABEL, KeySource


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


def validate_keys(
    manager: KeyManager, provider: str | None, label: str | None
) -> list[ValidationResult]:
    """Check the keys in use (or one provider's key) and record each result.

    For one provider, a key that does not open raises (exit 4); when checking every
    key, it becomes a `vault_error` result so the other keys are still checked.
    """
    if provider is None:
        from jarvis_cli.core.providers.header_secrets import is_header_label

        # A sealed header (label `header.<name>`) is no API key: /models would refuse it.
        targets = [
            (k.provider, k.label, k.source)
            for k in manager.list_keys()
            if k.in_use and not is_header_label(k.label)
        ]
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
