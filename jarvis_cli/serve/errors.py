"""OpenAI-shaped errors: `{"error": {"message", "type", "param", "code"}}` with a status.

Every message leaving the server passes through `safe_text`: registered secrets
(provider keys) are replaced and control characters dropped, so a provider's error
text can neither leak a key nor carry terminal escapes to a client's log.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

from jarvis_cli.core.errors import (
    AuthError,
    BadOutputError,
    BadRequestError,
    BudgetExceededError,
    ContextTooLongError,
    JarvisError,
    ModelNotFoundError,
    NoSuitableModelError,
    ProviderError,
    RateLimitedError,
    StoreError,
    StreamInterruptedError,
    UsageError,
)
from jarvis_cli.core.redact import redact

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
MAX_MESSAGE = 2000


def safe_text(text: str) -> str:
    """Redacted, without control characters, at most MAX_MESSAGE characters."""
    return _CONTROL.sub("", redact(text))[:MAX_MESSAGE]


class ApiError(Exception):
    """An error answer: status, OpenAI error type and code, extra headers."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = safe_text(message)
        self.type = type
        self.code = code
        self.param = param
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }

    def encoded(self) -> bytes:
        return json.dumps(self.body()).encode()


def bad_request(message: str, *, param: str | None = None, code: str | None = None) -> ApiError:
    return ApiError(400, message, param=param, code=code)


# What OpenAI's SDKs read before retrying on their own (by default twice for a 429 or
# 5xx): every retry of a request jarvis already retried and fell back on runs the
# whole chain again, and pays again for invalid output.
NO_RETRY = {"x-should-retry": "false"}


def from_jarvis(exc: JarvisError, *, deadline_passed: bool = False) -> ApiError:
    """The status and body for a request the orchestrator could not answer; the
    SDKs are told not to repeat one that jarvis's retries and fallbacks gave up on."""
    if isinstance(exc, StoreError):
        return store_unavailable(exc)
    error = _from_jarvis(exc, deadline_passed)
    if error.status in (502, 503, 504) or error.code == "budget_exceeded":
        error.headers.update(NO_RETRY)
    return error


def store_unavailable(exc: StoreError) -> ApiError:
    """A store that cannot be reached (a team store out of connections, say) is the
    server's trouble, and passes: a 503 the client may retry. Its reason, which names
    the store's host and database, goes to the server's log, not to the client."""
    print(f"jarvis serve: store unavailable: {safe_text(exc.message)}", file=sys.stderr, flush=True)
    return ApiError(
        503,
        "jarvis's store is unavailable just now (the server's log says why); retry shortly",
        type="server_error",
        code="store_unavailable",
        headers={"retry-after": "1"},
    )


def _from_jarvis(exc: JarvisError, deadline_passed: bool) -> ApiError:
    message = exc.message + (f" ({exc.hint})" if exc.hint else "")
    if isinstance(exc, BudgetExceededError):
        return ApiError(429, message, type="insufficient_quota", code="budget_exceeded")
    if isinstance(exc, UsageError):
        return ApiError(400, message, code="invalid_request")
    if isinstance(exc, NoSuitableModelError):
        return ApiError(400, message, code="no_suitable_model")
    if isinstance(exc, ContextTooLongError):
        return ApiError(400, message, code="context_length_exceeded")
    if isinstance(exc, BadRequestError | ModelNotFoundError):
        return ApiError(400, message, code="upstream_rejected")
    if isinstance(exc, AuthError):
        return ApiError(502, message, type="upstream_error", code="upstream_auth")
    if isinstance(exc, RateLimitedError):
        headers = {}
        if exc.retry_after is not None:
            headers["retry-after"] = str(max(1, round(exc.retry_after)))
        return ApiError(
            429, message, type="rate_limit_error", code="upstream_rate_limited", headers=headers
        )
    if isinstance(exc, StreamInterruptedError):
        return ApiError(502, message, type="upstream_error", code="stream_interrupted")
    if deadline_passed and isinstance(exc, ProviderError):
        return ApiError(504, message, type="timeout", code="deadline_exceeded")
    if isinstance(exc, BadOutputError):
        return ApiError(502, message, type="upstream_error", code="bad_output")
    if isinstance(exc, ProviderError):
        return ApiError(503, message, type="upstream_error", code="all_providers_failed")
    return ApiError(500, message, type="server_error", code="internal_error")
