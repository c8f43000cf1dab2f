"""The retry policy: how long to wait before trying a model again, and which error
to report when every model failed."""

from __future__ import annotations

import random
from collections.abc import Sequence

from jarvis_cli.core.errors import (
    AuthError,
    BadOutputError,
    BudgetExceededError,
    ContextTooLongError,
    JarvisError,
    ModelNotFoundError,
    NoKeyError,
    NoSuitableModelError,
    ProviderAuthError,
    ProviderError,
    RateLimitedError,
    UnavailableError,
)
from jarvis_cli.core.store.config import RetryPolicy


def backoff_seconds(exc: ProviderError, attempt_no: int, policy: RetryPolicy) -> float | None:
    """Seconds to wait before retrying the same model, or None to move on at once.

    A Retry-After longer than `max_retry_after_s` means the model is busy for a
    while: another model is the better use of the time.
    """
    if isinstance(exc, RateLimitedError) and exc.retry_after is not None:
        return exc.retry_after if exc.retry_after <= policy.max_retry_after_s else None
    # Full jitter: spreads the retries of concurrent jarvis processes apart.
    return random.uniform(0, min(policy.backoff_max_s, policy.backoff_base_s * 2**attempt_no))


def final_error(errors: Sequence[JarvisError], attempts: int, chain: Sequence[str]) -> JarvisError:
    """The error to report when every model of `chain` failed or was skipped.

    All budget refusals -> that refusal (7); all key problems -> AuthError (5);
    the last one context-too-long -> 9; otherwise the providers failed (8).
    """
    if not errors:
        return NoSuitableModelError(
            f"no model could be tried (candidates: {', '.join(chain) or 'none'})"
        )
    last = errors[-1]
    tried = f"{attempts} attempt(s) on {len(chain)} model(s)"
    if all(isinstance(e, BudgetExceededError) for e in errors):
        return last
    if all(isinstance(e, ProviderAuthError | AuthError) for e in errors):
        return _auth_error(errors)
    if all(isinstance(e, ModelNotFoundError) for e in errors):
        return ModelNotFoundError(
            "; ".join(e.message for e in errors[-3:]),
            provider=last.provider if isinstance(last, ProviderError) else None,
            status_code=last.status_code if isinstance(last, ProviderError) else None,
            hint="check the model id: `jarvis models list`, or `jarvis models sync` to fetch "
            "what the provider serves",
        )
    if isinstance(last, ContextTooLongError):
        return ContextTooLongError(
            f"the input is too long for every model tried ({tried}): {last.message}",
            provider=last.provider,
            status_code=last.status_code,
        )
    summary = "; ".join(e.message for e in errors[-3:])
    if all(isinstance(e, BadOutputError) for e in errors):
        return BadOutputError(
            f"no model produced valid output ({tried}): {summary}",
            hint="see `jarvis log` for every attempt; a simpler schema may help",
        )
    return UnavailableError(
        f"all providers failed after {tried}: {summary}",
        hint="see `jarvis log` for every attempt",
    )


def _auth_error(errors: Sequence[JarvisError]) -> AuthError:
    """Every model failed for want of a key: name the missing ones and how to add them."""
    missing = [e for e in errors if isinstance(e, NoKeyError)]
    if len(missing) == len(errors):
        if len(missing) == 1:
            return missing[0]
        return NoKeyError(
            "no provider tried has a key: " + "; ".join(e.message for e in missing),
            hint=missing[0].hint,
        )
    rejected = [e for e in errors if not isinstance(e, NoKeyError)]
    if len(errors) == 1:
        return AuthError(errors[0].message, hint=errors[0].hint)
    providers = [getattr(e, "provider", None) for e in rejected]
    name = next((p for p in providers if p), "PROVIDER")
    return AuthError(
        "every provider tried rejected its key or has none: "
        + "; ".join(e.message for e in errors),
        hint=rejected[-1].hint or f"store a working key with `jarvis keys add {name}`",
    )
