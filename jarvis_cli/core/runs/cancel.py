"""Stopping a request from another thread: a client of `jarvis serve` that went away.

A `CancelToken` travels with the request (`CompletionRequest.cancel`). Setting it
closes the stream that is open, so a worker blocked reading the provider wakes at
once (not at the next chunk), and the orchestrator records that attempt as
`interrupted` - like Ctrl-C, it says nothing about the model - then raises
`RequestCancelled` to the caller. It is a BaseException, as KeyboardInterrupt is:
no `except Exception` on the way may swallow it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from jarvis_cli.core.errors import ProviderError
from jarvis_cli.core.providers.base import ChatStream, CompletionResult


class RequestCancelled(BaseException):
    """The caller stopped the request; the attempt in flight is recorded as interrupted."""


class CancelToken:
    """Set once, from any thread; closes the stream registered with it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._set = False
        self._stream: ChatStream | None = None

    @property
    def is_set(self) -> bool:
        return self._set

    def cancel(self) -> None:
        with self._lock:
            self._set = True
            stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()

    def attach(self, stream: ChatStream) -> None:
        """Close `stream` when cancelled; RequestCancelled if that already happened."""
        with self._lock:
            if not self._set:
                self._stream = stream
                return
        stream.close()
        raise RequestCancelled

    def detach(self) -> None:
        with self._lock:
            self._stream = None


def relay(
    stream: ChatStream,
    on_text: Callable[[str], None],
    on_first: Callable[[], None],
    cancel: CancelToken | None,
) -> CompletionResult | None:
    """Pass a stream's deltas to `on_text` (calling `on_first` before each); closed at
    the end. A failure caused by cancelling is RequestCancelled, not a provider error."""
    try:
        if cancel is not None:
            cancel.attach(stream)
        for delta in stream:
            on_first()
            on_text(delta)
    except ProviderError:
        if cancel is not None and cancel.is_set:
            raise RequestCancelled from None
        raise
    finally:
        if cancel is not None:
            cancel.detach()
        stream.close()
    if cancel is not None and cancel.is_set:
        raise RequestCancelled
    return stream.result
