"""The one error hierarchy of jarvis; each class carries its process exit code.

The CLI catches `JarvisError` at a single point, prints `error: <message>` (and a
hint, if any) to stderr and exits with `exit_code`. Messages must never contain
a key value: build them from provider names, labels, statuses and fingerprints.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes; a contract for scripts (see README, "Exit codes")."""

    OK = 0
    INTERNAL = 1
    USAGE = 2
    CONFIG = 3
    VAULT = 4
    AUTH = 5
    NO_MODEL = 6
    BUDGET = 7
    PROVIDER = 8
    REJECTED = 9
    PARTIAL = 10
    INTERRUPTED = 130


class JarvisError(Exception):
    """Base of every error jarvis reports to a user."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(JarvisError):
    """A bad option, argument or combination of them."""

    exit_code = ExitCode.USAGE


class ConfigError(JarvisError):
    """config.toml is malformed or holds a bad value."""

    exit_code = ExitCode.CONFIG


class StoreError(JarvisError):
    """The SQLite store is unreadable, corrupt, not ours, or unsafely exposed."""

    exit_code = ExitCode.CONFIG


class UnsafePermissionsError(StoreError):
    """A jarvis file or directory is readable by group or others."""


class VaultError(JarvisError):
    """Master key missing or wrong, or a sealed key failed to open."""

    exit_code = ExitCode.VAULT


class AuthError(JarvisError):
    """No key for a provider, or the provider rejected the key."""

    exit_code = ExitCode.AUTH


class NoKeyError(AuthError):
    """No key is configured for a provider that needs one."""


class NoSuitableModelError(JarvisError):
    """No model satisfies the request's constraints."""

    exit_code = ExitCode.NO_MODEL


class BudgetExceededError(JarvisError):
    """The request would exceed a configured or per-request budget."""

    exit_code = ExitCode.BUDGET


class ProviderError(JarvisError):
    """A provider call failed in a way that retries or fallbacks may fix."""

    exit_code = ExitCode.PROVIDER
    retryable = True

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        status_code: int | None = None,
        hint: str | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.provider = provider
        self.status_code = status_code
        # The provider's own error text, redacted and whole (the message has it cut):
        # what `jarvis log show` and `--json` show.
        self.detail = detail

    @property
    def error_class(self) -> str:
        """Short stable name recorded in the calls table."""
        return _ERROR_CLASS_NAMES.get(type(self), "provider_error")


class RateLimitedError(ProviderError):
    """429: try again after `retry_after` seconds (if the provider said)."""

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        status_code: int | None = 429,
        retry_after: float | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, provider=provider, status_code=status_code, hint=hint)
        self.retry_after = retry_after


class UnavailableError(ProviderError):
    """5xx, timeout, refused or reset connection."""


class BadResponseError(ProviderError):
    """The provider answered with something that is not a valid response."""


class BadOutputError(ProviderError):
    """The answer is not what the request asked for (not JSON, or not matching --schema).

    The next model may do better, so it falls back; the same model is not asked again.
    """


class ProviderAuthError(ProviderError):
    """401/403 from a provider: its key is bad; other providers may still work."""

    exit_code = ExitCode.AUTH
    retryable = False


class RequestRejectedError(ProviderError):
    """A non-retryable 4xx: the request itself is wrong."""

    exit_code = ExitCode.REJECTED
    retryable = False


class BadRequestError(RequestRejectedError):
    """400/422 other than context length."""


class ContextTooLongError(RequestRejectedError):
    """400 saying the input does not fit the model's context window."""


class ModelNotFoundError(RequestRejectedError):
    """404: the provider does not know the model (or the endpoint)."""


class StreamInterruptedError(ProviderError):
    """The stream failed after text was already shown; nothing is retried."""

    retryable = False


class PartialSuccessError(JarvisError):
    """Some parts of a multi-part operation failed (e.g. sync of many providers)."""

    exit_code = ExitCode.PARTIAL


_ERROR_CLASS_NAMES: dict[type[ProviderError], str] = {
    ProviderError: "provider_error",
    RateLimitedError: "rate_limited",
    UnavailableError: "unavailable",
    BadResponseError: "bad_response",
    BadOutputError: "bad_output",
    ProviderAuthError: "auth",
    RequestRejectedError: "rejected",
    BadRequestError: "bad_request",
    ContextTooLongError: "context_too_long",
    ModelNotFoundError: "not_found",
    StreamInterruptedError: "stream_interrupted",
}
