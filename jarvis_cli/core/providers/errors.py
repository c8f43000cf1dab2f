"""Map `openai` SDK exceptions to jarvis provider errors.

Messages are short and name the provider and the HTTP status. The upstream
message is included only where it helps (bad request, not found, context too
long), after redaction, removal of anything that looks like a credential, and
truncation: an error body may echo the Authorization header. Callers raise the
result `from None` so the SDK exception (which holds the request and its
headers) is not chained into tracebacks.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from typing import Any

from jarvis_cli.core.errors import (
    BadRequestError,
    BadResponseError,
    ContextTooLongError,
    ModelNotFoundError,
    ProviderAuthError,
    ProviderError,
    RateLimitedError,
    UnavailableError,
)
from jarvis_cli.core.redact import REDACTED, redact

MAX_UPSTREAM_CHARS = 200  # in a message
MAX_DETAIL_CHARS = 4000  # kept with the attempt (`jarvis log show`, `--json`)

# Phrases providers use when the input does not fit the context window.
_CONTEXT_PATTERNS = re.compile(
    r"context[_ ]length|context window|maximum context|too many tokens|prompt is too long|"
    r"input is too long|reduce the length|exceeds the (?:model's )?(?:maximum|context)",
    re.IGNORECASE,
)
# A model the server does not serve, said with a 400 (LiteLLM: "Invalid model name
# passed in model=...", OpenAI: "The model `x` does not exist").
_NOT_FOUND_PATTERNS = re.compile(
    r"invalid model name|model[^.]{0,80}(?:does not exist|not found|is not supported by)|"
    r"unknown model|no such model|model_not_found",
    re.IGNORECASE,
)
# A proxy that could not check the key it was sent (LiteLLM without its database).
_PROXY_AUTH_PATTERNS = re.compile(
    r"authentication error|no connected db|invalid proxy server token|"
    r"virtual key expected|api key not valid|invalid api key",
    re.IGNORECASE,
)
# A 5xx whose text says the request is the problem, not the server.
_REJECTED_PATTERNS = re.compile(
    r"not supported|unsupported|must be one of|invalid (?:request|argument|value|parameter)|"
    r"validation error|input should be|"
    r"unknown (?:field|parameter|argument)|failed to parse|cannot (?:parse|be used)",
    re.IGNORECASE,
)
# Anything that looks like a credential, in case a secret was never registered.
_CREDENTIAL_PATTERNS = re.compile(
    r"(?i:bearer)\s+\S+|\b(?:sk|pk|gsk|xai|key|api)[-_][A-Za-z0-9_\-]{6,}|\bAIza[0-9A-Za-z_\-]{10,}"
)


def clean_upstream(
    text: str | None, api_key: str | None = None, limit: int = MAX_UPSTREAM_CHARS
) -> str:
    """A provider's own error text made safe to show: no credentials, one line, short."""
    if not text:
        return ""
    if api_key:
        text = text.replace(api_key, REDACTED)
    text = redact(text)
    text = _CREDENTIAL_PATTERNS.sub(REDACTED, text)
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def parse_retry_after(headers: Any) -> float | None:
    """Seconds to wait from `retry-after-ms` / `Retry-After` (seconds or an HTTP date)."""
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _upstream_message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            msg = inner.get("message")
            code = inner.get("code")
            # A numeric code only repeats the status (LiteLLM sends "400").
            parts = [str(x) for x in (msg, code) if x and not str(x).isdigit()]
            return " ".join(parts)
        if isinstance(inner, str):
            return inner
    return str(getattr(exc, "message", "") or "")


def map_status_error(provider: str, status: int, exc: Any, api_key: str | None) -> ProviderError:
    """The jarvis error for an HTTP error status from `provider`.

    Every message carries the provider's own reason, cut short; `detail` keeps it
    whole (both redacted) for the attempt's record.
    """
    raw = _upstream_message(exc)
    upstream = clean_upstream(raw, api_key)
    full = clean_upstream(raw, api_key, MAX_DETAIL_CHARS) or None
    detail = f": {upstream}" if upstream else ""
    prefix = f"{provider}: HTTP {status}"
    error = _status_error(provider, status, exc, prefix, upstream, detail)
    error.detail = full
    return error


def _status_error(
    provider: str, status: int, exc: Any, prefix: str, upstream: str, detail: str
) -> ProviderError:
    if status in (401, 403):
        return ProviderAuthError(
            f"{prefix} {'authentication failed' if status == 401 else 'forbidden'} "
            f"(the key was rejected){detail}",
            provider=provider,
            status_code=status,
            hint=f"store a working key with `jarvis keys add {provider}` "
            f"(or check it with `jarvis keys validate {provider}`)",
        )
    if status == 400 and _PROXY_AUTH_PATTERNS.search(upstream):
        # LiteLLM's proxy answers a key it cannot check ("No connected db.") with 400.
        return ProviderAuthError(
            f"{prefix} the proxy refused the key{detail}",
            provider=provider,
            status_code=status,
            hint=f"add the proxy's key: `jarvis keys add {provider}`",
        )
    if status == 429:
        response = getattr(exc, "response", None)
        retry_after = parse_retry_after(getattr(response, "headers", None))
        after = f" (retry after {retry_after:g} s)" if retry_after is not None else ""
        return RateLimitedError(
            f"{prefix} rate limited{after}{detail}",
            provider=provider,
            status_code=status,
            retry_after=retry_after,
        )
    if status == 413 or (status in (400, 422) and _CONTEXT_PATTERNS.search(upstream)):
        return ContextTooLongError(
            f"{prefix} input too long for the model's context window{detail}",
            provider=provider,
            status_code=status,
        )
    if status == 404 or (status in (400, 422) and _NOT_FOUND_PATTERNS.search(upstream)):
        return ModelNotFoundError(
            f"{prefix} not found (unknown model or endpoint){detail}",
            provider=provider,
            status_code=status,
        )
    if status >= 500 and _REJECTED_PATTERNS.search(upstream):
        # A server that reports a request it cannot serve as its own failure (llama.cpp
        # answers an unsupported response_format with 500): retrying cannot help.
        return BadRequestError(
            f"{prefix} request rejected{detail}",
            provider=provider,
            status_code=status,
            hint="the server cannot serve this request as sent; retrying will not help "
            "(a --schema, --tools or attachment it does not support?)",
        )
    if status in (408, 409) or status >= 500:
        return UnavailableError(
            f"{prefix} provider unavailable{detail}", provider=provider, status_code=status
        )
    return BadRequestError(
        f"{prefix} request rejected{detail}", provider=provider, status_code=status
    )


def map_exception(provider: str, exc: BaseException, api_key: str | None) -> ProviderError:
    """The jarvis error for any exception raised while talking to `provider`."""
    import openai

    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, openai.APIStatusError):
        return map_status_error(provider, exc.status_code, exc, api_key)
    if isinstance(exc, openai.APITimeoutError):
        return UnavailableError(f"{provider}: request timed out", provider=provider)
    if isinstance(exc, openai.APIConnectionError):
        return UnavailableError(
            f"{provider}: connection failed ({_connection_reason(exc)})", provider=provider
        )
    if isinstance(exc, UnicodeEncodeError):  # before ValueError: nothing was sent
        return ProviderAuthError(
            f"{provider}: the key (or a header) holds characters an HTTP header cannot carry "
            "(non-ASCII letters or control characters)",
            provider=provider,
            hint=f"store the key as plain ASCII: `jarvis keys rotate {provider}` (or fix "
            "its environment variable)",
        )
    if isinstance(exc, openai.APIResponseValidationError | json.JSONDecodeError | ValueError):
        return BadResponseError(f"{provider}: malformed response", provider=provider)
    if isinstance(exc, openai.APIError):
        # An error event inside a stream (no HTTP status).
        raw = _upstream_message(exc)
        upstream = clean_upstream(raw, api_key)
        return UnavailableError(
            f"{provider}: error during the response" + (f": {upstream}" if upstream else ""),
            provider=provider,
            detail=clean_upstream(raw, api_key, MAX_DETAIL_CHARS) or None,
        )
    import httpx2

    if isinstance(exc, httpx2.TimeoutException):
        return UnavailableError(f"{provider}: request timed out", provider=provider)
    if isinstance(exc, httpx2.TransportError):
        return UnavailableError(
            f"{provider}: connection failed ({type(exc).__name__})", provider=provider
        )
    return BadResponseError(
        f"{provider}: unexpected response ({type(exc).__name__})", provider=provider
    )


def _connection_reason(exc: BaseException) -> str:
    """A short reason from the exception chain: refused, reset, dropped, ..."""
    seen: BaseException | None = exc
    names: list[str] = []
    while seen is not None and len(names) < 6:
        names.append(type(seen).__name__ + " " + str(seen))
        seen = seen.__cause__ or seen.__context__
    text = " ".join(names).lower()
    if "refused" in text:
        return "connection refused"
    if "reset" in text:
        return "connection reset"
    if "incomplete" in text or "peer closed" in text or "remoteprotocol" in text:
        return "connection dropped"
    if "name or service" in text or "nodename" in text or "getaddrinfo" in text:
        return "host not found"
    return "network error"
