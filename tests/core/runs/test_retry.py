"""The retry policy: waits before a retry, and the error reported when all failed."""

from __future__ import annotations

import pytest

from jarvis_cli.core.errors import (
    AuthError,
    BudgetExceededError,
    ContextTooLongError,
    ExitCode,
    NoSuitableModelError,
    ProviderAuthError,
    RateLimitedError,
    UnavailableError,
)
from jarvis_cli.core.runs.retry import backoff_seconds, final_error
from jarvis_cli.core.store.config import RetryPolicy

POLICY = RetryPolicy(max_retry_after_s=30, backoff_base_s=0.5, backoff_max_s=8)


def test_retry_after_is_honoured_up_to_the_cap() -> None:
    assert backoff_seconds(RateLimitedError("429", retry_after=2.0), 0, POLICY) == 2.0
    assert backoff_seconds(RateLimitedError("429", retry_after=31.0), 0, POLICY) is None


@pytest.mark.parametrize("attempt_no", [0, 1, 2, 3, 6])
def test_backoff_is_jittered_and_capped(attempt_no: int) -> None:
    ceiling = min(8.0, 0.5 * 2**attempt_no)
    waits = [backoff_seconds(UnavailableError("503"), attempt_no, POLICY) for _ in range(200)]
    assert all(w is not None and 0 <= w <= ceiling for w in waits)
    assert len({round(w or 0, 6) for w in waits}) > 100  # jitter, not a fixed value


def test_final_error_when_nothing_could_be_tried() -> None:
    err = final_error([], 0, ["a/x"])
    assert isinstance(err, NoSuitableModelError) and err.exit_code == ExitCode.NO_MODEL


def test_final_error_budget_only_keeps_the_refusal() -> None:
    refusal = BudgetExceededError("daily total budget exceeded")
    assert final_error([refusal], 0, ["a/x"]) is refusal


def test_final_error_keys_only_is_auth() -> None:
    err = final_error(
        [ProviderAuthError("a: HTTP 401"), AuthError("no key for b")], 1, ["a/x", "b/y"]
    )
    assert err.exit_code == ExitCode.AUTH
    assert "a: HTTP 401" in err.message and "no key for b" in err.message


def test_final_error_context_too_long_last_is_9() -> None:
    err = final_error([UnavailableError("503"), ContextTooLongError("too long")], 2, ["a", "b"])
    assert isinstance(err, ContextTooLongError) and err.exit_code == ExitCode.REJECTED


def test_final_error_otherwise_is_provider_failure_8() -> None:
    err = final_error([UnavailableError("a: 503"), RateLimitedError("b: 429")], 4, ["a/x", "b/y"])
    assert err.exit_code == ExitCode.PROVIDER
    assert err.message.startswith("all providers failed after 4 attempt(s) on 2 model(s)")
