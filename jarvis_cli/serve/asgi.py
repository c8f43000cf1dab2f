"""The little of ASGI the server needs: read a bounded body, send JSON, SSE and errors."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from jarvis_cli.serve.errors import ApiError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MAX_BODY = 25 * 1024 * 1024  # images travel as data URLs; 25 MiB leaves room for a few
# The whole body must arrive within this (a slow drip is cut off with 408), and a
# client that stops reading is dropped after the other (its request is cancelled).
BODY_TIMEOUT_S = float(os.environ.get("JARVIS_SERVE_BODY_TIMEOUT_S") or 30)
SEND_TIMEOUT_S = float(os.environ.get("JARVIS_SERVE_SEND_TIMEOUT_S") or 30)


class Disconnected(Exception):
    """The client went away."""


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


async def read_body(scope: Scope, receive: Receive, limit: int = MAX_BODY) -> bytes:
    """The request body; 413 past `limit`, 408 if it does not arrive in time."""
    declared = header(scope, b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    deadline = time.monotonic() + BODY_TIMEOUT_S
    parts: list[bytes] = []
    size = 0
    while True:
        remaining = deadline - time.monotonic()
        try:
            if remaining <= 0:
                raise TimeoutError
            message = await asyncio.wait_for(receive(), remaining)
        except TimeoutError:
            raise ApiError(
                408,
                f"the request body did not arrive within {BODY_TIMEOUT_S:g} s",
                code="request_timeout",
            ) from None
        if message["type"] == "http.disconnect":
            raise Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        parts.append(chunk)
        if not message.get("more_body", False):
            return b"".join(parts)


def too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        f"the request body is larger than {limit // (1024 * 1024)} MiB",
        code="request_too_large",
    )


def parse_json(body: bytes) -> dict[str, Any]:
    """The body as a JSON object: 400 for invalid UTF-8, invalid JSON or a non-object."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(
            400, f"the body is not valid UTF-8 (byte {exc.start})", code="invalid_utf8"
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f" at line {exc.lineno} column {exc.colno}"
        raise ApiError(400, f"the body is not valid JSON{where}", code="invalid_json") from None
    except (ValueError, RecursionError):
        where = ""
        raise ApiError(400, f"the body is not valid JSON{where}", code="invalid_json") from None
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object", code="invalid_json")
    return data


def _headers(content_type: bytes, extra: Iterable[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    out = [(b"content-type", content_type)]
    out += [(k.encode("latin-1"), v.encode("latin-1", "replace")) for k, v in extra]
    return out


async def send_bytes(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes,
    headers: Iterable[tuple[str, str]] = (),
) -> None:
    start = _headers(content_type, headers)
    start.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": start})
    await send({"type": "http.response.body", "body": body})


async def send_json(
    send: Send, status: int, data: Any, headers: Iterable[tuple[str, str]] = ()
) -> None:
    body = json.dumps(data, separators=(",", ":")).encode()
    await send_bytes(send, status, body, b"application/json", headers)


async def send_error(send: Send, error: ApiError, headers: Iterable[tuple[str, str]] = ()) -> None:
    await send_json(send, error.status, error.body(), [*error.headers.items(), *headers])


class EventStream:
    """A text/event-stream response; every write gives up after SEND_TIMEOUT_S."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.started = False
        self.ended = False

    async def start(self, headers: Iterable[tuple[str, str]]) -> None:
        start = _headers(b"text/event-stream", [("cache-control", "no-cache"), *headers])
        await self._write({"type": "http.response.start", "status": 200, "headers": start})
        self.started = True

    async def event(self, data: Any) -> None:
        payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
        await self._write(
            {
                "type": "http.response.body",
                "body": f"data: {payload}\n\n".encode(),
                "more_body": True,
            }
        )

    async def end(self) -> None:
        await self._write({"type": "http.response.body", "body": b"", "more_body": False})
        self.ended = True

    async def _write(self, message: Message) -> None:
        try:
            await asyncio.wait_for(self._send(message), SEND_TIMEOUT_S)
        except (TimeoutError, OSError):
            raise Disconnected from None
