"""A streamed chat completion over the `openai` SDK: text deltas, then a result.

Kept apart from the adapter because a stream has its own rules: it must end with a
finish_reason, and the total deadline is enforced between chunks (the SDK's read
timeout restarts with every chunk).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from jarvis_cli.core.errors import BadResponseError, ProviderError, UnavailableError
from jarvis_cli.core.providers.base import MAX_TIMEOUT_S, CompletionResult, Usage
from jarvis_cli.core.providers.tool_deltas import ToolCallAssembler
from jarvis_cli.core.redact import SecretScrubber


def ms_since(start: float) -> float:
    return (time.monotonic() - start) * 1000


def usage_of(raw: Any) -> Usage:
    if raw is None:
        return Usage()
    prompt = getattr(raw, "prompt_tokens", None)
    completion = getattr(raw, "completion_tokens", None)
    total = getattr(raw, "total_tokens", None)
    if total is None and prompt is not None and completion is not None:
        total = prompt + completion
    return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=total)


class OpenAIChatStream:
    """Text deltas of a streamed chat completion; `result` is set once the stream ends.

    A connection that breaks mid-stream raises UnavailableError from the iterator; a
    stream that ends cleanly but without a finish_reason (a server stopped mid-answer)
    raises BadResponseError ("truncated"); a stream still running at `deadline` (a
    time.monotonic() value) raises UnavailableError. The SDK's read timeout restarts
    with every chunk, so the deadline is checked here, between chunks. What was
    already yielded is the caller's to keep or discard.
    """

    def __init__(
        self,
        provider: str,
        map_error: Callable[[BaseException], ProviderError],
        sdk_stream: Any,
        model: str,
        started: float,
        deadline: float | None = None,
    ) -> None:
        self._provider = provider
        self._map_error = map_error
        self._sdk_stream = sdk_stream
        self._model = model
        self._started = started
        self._deadline = deadline
        self._result: CompletionResult | None = None
        self._consumed = False

    @property
    def result(self) -> CompletionResult | None:
        return self._result

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing a broken stream must not raise
            self._sdk_stream.close()

    def __iter__(self) -> Iterator[str]:
        if self._consumed:
            raise RuntimeError("a ChatStream can be iterated only once")
        self._consumed = True
        parts: list[str] = []
        ttft_ms: float | None = None
        usage = Usage()
        finish_reason: str | None = None
        answered_model = self._model
        tools = ToolCallAssembler()
        watchdog = _Watchdog(self._sdk_stream, self._deadline)
        scrubber = SecretScrubber()  # a key in use, echoed back, is never shown
        try:
            for chunk in self._sdk_stream:
                if self._deadline is not None and time.monotonic() > self._deadline:
                    raise UnavailableError(
                        f"{self._provider}: the total deadline passed while streaming",
                        provider=self._provider,
                    )
                if getattr(chunk, "model", None):
                    answered_model = chunk.model
                if getattr(chunk, "usage", None) is not None:
                    usage = usage_of(chunk.usage)
                for choice in getattr(chunk, "choices", None) or []:
                    if choice.finish_reason:
                        finish_reason = choice.finish_reason
                    for item in getattr(choice.delta, "tool_calls", None) or ():
                        if ttft_ms is None:
                            ttft_ms = ms_since(self._started)
                        if not tools.add(item):
                            raise BadResponseError(
                                f"{self._provider}: a streamed tool call without an index",
                                provider=self._provider,
                            )
                    delta = getattr(choice.delta, "content", None) if choice.delta else None
                    if delta:
                        if ttft_ms is None:
                            ttft_ms = ms_since(self._started)
                        shown = scrubber.feed(delta)
                        if shown:
                            parts.append(shown)
                            yield shown
            rest = scrubber.flush()
            if rest:
                parts.append(rest)
                yield rest
        except ProviderError:
            raise
        except Exception as exc:  # every SDK/transport failure is mapped
            if watchdog.fired.is_set():
                raise UnavailableError(
                    f"{self._provider}: the total deadline passed while streaming "
                    "(the provider sent nothing more)",
                    provider=self._provider,
                ) from None
            raise self._map_error(exc) from None
        finally:
            watchdog.cancel()
            self.close()
        if finish_reason is None:
            what = "before the answer was complete" if parts else "without any choice"
            raise BadResponseError(
                f"{self._provider}: stream ended {what} (no finish_reason: truncated)",
                provider=self._provider,
            )
        calls = tools.calls()
        if calls is None:
            raise BadResponseError(
                f"{self._provider}: a streamed tool call without a function name",
                provider=self._provider,
            )
        self._result = CompletionResult(
            text="".join(parts),
            tool_calls=calls,
            usage=usage,
            model=answered_model,
            finish_reason=finish_reason,
            latency_ms=ms_since(self._started),
            ttft_ms=ttft_ms,
        )


class _Watchdog:
    """Ends a stream stalled past `deadline`: the SDK's read timeout restarts with every
    chunk, so one read that never returns could overrun the total deadline by all the
    time that was left. At the deadline the connection's socket is shut down, which
    wakes the blocked read (a close() from another thread would not)."""

    def __init__(self, sdk_stream: Any, deadline: float | None) -> None:
        self.fired = threading.Event()
        self._stream = sdk_stream
        self._timer: threading.Timer | None = None
        if deadline is not None:
            left = min(max(0.0, deadline - time.monotonic()), MAX_TIMEOUT_S)
            self._timer = threading.Timer(left, self._fire)
            self._timer.daemon = True
            self._timer.start()

    def _fire(self) -> None:
        self.fired.set()
        response = getattr(self._stream, "response", None)
        extensions = getattr(response, "extensions", None) or {}
        network = extensions.get("network_stream")
        sock = network.get_extra_info("socket") if network is not None else None
        with contextlib.suppress(Exception):
            if isinstance(sock, socket.socket):
                sock.shutdown(socket.SHUT_RDWR)
            else:
                self._stream.close()

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
