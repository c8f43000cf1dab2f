"""A loopback fake of an OpenAI-compatible provider, for tests that talk HTTP.

A real HTTP server (stdlib `ThreadingHTTPServer`) on 127.0.0.1, port chosen by the
OS, serving `/v1/models`, `/v1/chat/completions` (with SSE streaming),
`/v1/completions` and `/v1/embeddings`. What it does for each request is
scriptable per model (or for any model): status codes, headers such as
Retry-After, delays before the first byte and between stream chunks, malformed
bodies, connections dropped mid-stream, and an error body that echoes the
Authorization header (to prove jarvis never shows it). Every request is recorded.
Chat messages with content parts are checked (an image data URL's bytes must be
that image type, a file part a PDF with a filename: else 400) and answered with a
description of what was attached ("I see an image (image/png, 48 bytes)").

    with FakeProvider(api_key="sk-test-123456") as fake:
        fake.script("fake-chat", Behavior(status=429, headers={"Retry-After": "2"}))
        ...  # point a provider's base_url at fake.base_url

Streams use chunked transfer encoding, so a dropped connection is visible to the
client as an incomplete body (not as a clean end of stream).
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_MODELS = ["fake-chat", "fake-embed"]
EMBEDDING_DIM = 8


@dataclass
class Behavior:
    """What the server does for one request."""

    status: int = 200
    text: str = "Hello from fake"  # completion text (streamed in chunks when stream=true)
    headers: dict[str, str] = field(default_factory=dict)  # e.g. {"Retry-After": "1"}
    error_message: str | None = None  # JSON error body message for non-200
    delay_s: float = 0.0  # before the first byte
    chunk_delay_s: float = 0.0  # between SSE chunks
    malformed: bool = False  # invalid JSON body (or an invalid SSE event when streaming)
    drop_after_chunks: int | None = None  # close the connection mid-stream after N chunks
    echo_auth: bool = False  # error body contains the received Authorization header
    prompt_tokens: int = 10
    completion_tokens: int = 5
    # Extras beyond the fixed interface:
    chunks: list[str] | None = None  # explicit stream deltas (default: `text` split by words)
    stream_usage: bool = True  # send a final usage chunk when the client asks for it
    finish_reason: str = "stop"
    no_choices: bool = False  # a well-formed JSON body with "choices": []
    error_code: str | None = None  # "code" field of the JSON error body
    # Added for hardening tests (defaults keep the behaviour above unchanged):
    close_early_after: int | None = None  # after N events end the stream CLEANLY, without
    #   a finish_reason and without [DONE] (what a server stopped by SIGTERM does)
    embedding_per_token: bool = False  # one vector per token (nested lists): malformed
    # Issue 14 (--schema, --tools). A request's response_format / tools / tool_choice are
    # checked for the OpenAI shape (400 if wrong) whatever the behaviour.
    schema_answer: str | None = None  # "valid" | "invalid": JSON shaped by the sent schema
    tool_calls: list[dict[str, str]] | None = None  # [{"name", "arguments" (a string)}]
    tool_call_deltas: list[list[dict[str, Any]]] | None = None  # streamed: raw
    #   delta.tool_calls of each chunk, exactly as given (for tricky chunking)
    # Issue 23 (budgets that bound the bill). template_tokens: bill prompt tokens the
    # way a real chat template does (`template_prompt_tokens`), not `prompt_tokens`.
    # honour_max_tokens: bill at most the max_tokens / max_completion_tokens sent
    # (a server that ignores the limit bills `completion_tokens` whatever was sent).
    template_tokens: bool = False
    honour_max_tokens: bool = False
    # llama-cpp-python's response_format dialect: json_schema refused with its HTTP 500,
    # {"type": "json_object", "schema": ...} taken (answered per schema_answer)
    json_object_only: bool = False


# What llama-cpp-python's server answers (HTTP 500) to a json_schema response_format.
LLAMA_JSON_SCHEMA_REFUSAL = (
    "1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', "
    "'type'), 'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema', "
    "'ctx': {'expected': \"'text' or 'json_object'\"}}\n\n  File \"/srv/llama_cpp/server/"
    'app.py", line 376, in create_chat_completion\n    POST /v1/chat/completions'
)


# A realistic chat template (ChatML with a short default system prompt): 7 tokens per
# request, 3 per message around its content, content at one token per 3 UTF-8 bytes
# (English is ~4 bytes a token, CJK 3 bytes a character). "hi" bills 11 tokens.
TEMPLATE_REQUEST_TOKENS = 7
TEMPLATE_MESSAGE_TOKENS = 3


def template_prompt_tokens(body: Any) -> int:
    """Prompt tokens a ChatML-like template bills for a chat/completion request body."""
    if not isinstance(body, dict):
        return TEMPLATE_REQUEST_TOKENS
    messages = body.get("messages")
    if not isinstance(messages, list):
        messages = [{"content": str(body.get("prompt", ""))}]
    total = TEMPLATE_REQUEST_TOKENS
    for m in messages:
        content = m.get("content") if isinstance(m, dict) else None
        text = content if isinstance(content, str) else json.dumps(content)
        total += TEMPLATE_MESSAGE_TOKENS + -(-len(text.encode()) // 3)
    for tool in body.get("tools") or []:
        total += -(-len(json.dumps(tool).encode()) // 3)
    return total


class Headers(dict[str, str]):
    """Request headers with case-insensitive lookup (keys are stored lowercased)."""

    def __init__(self, items: Any = ()) -> None:
        super().__init__((k.lower(), v) for k, v in dict(items).items())

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    method: str
    model: str | None
    headers: Headers  # case-insensitive lookup
    body: Any  # parsed JSON body, or None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    fake: FakeProvider


class FakeProvider:
    """The fake server. `start()` it (or use it as a context manager), then use `base_url`."""

    def __init__(self, *, api_key: str | None = None, models: list[str] | None = None) -> None:
        self.api_key = api_key
        self._models = list(DEFAULT_MODELS if models is None else models)
        self._lock = threading.Lock()
        self._scripts: dict[str | None, deque[Behavior]] = {}
        self._always: dict[str | None, Behavior] = {}
        self.requests: list[RecordedRequest] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    # --- lifecycle --------------------------------------------------------------

    def start(self) -> FakeProvider:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        port = server.server_address[1]
        self.base_url = f"http://127.0.0.1:{port}/v1"
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-provider"
        )
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeProvider:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "FakeProvider not started"
        return int(self._server.server_address[1])

    # --- scripting --------------------------------------------------------------

    def set_models(self, models: list[str]) -> None:
        with self._lock:
            self._models = list(models)

    @property
    def models(self) -> list[str]:
        with self._lock:
            return list(self._models)

    def script(self, model: str | None, *behaviors: Behavior) -> None:
        """Queue behaviours, one per request for `model` (None = any request); then defaults."""
        with self._lock:
            self._scripts.setdefault(model, deque()).extend(behaviors)

    def always(self, model: str | None, behavior: Behavior) -> None:
        """Use `behavior` for every request for `model` (None = any) once scripts run out."""
        with self._lock:
            self._always[model] = behavior

    def reset(self) -> None:
        """Forget scripts, standing behaviours and recorded requests."""
        with self._lock:
            self._scripts.clear()
            self._always.clear()
            self.requests.clear()

    def _behavior_for(self, model: str | None) -> Behavior:
        with self._lock:
            for key in (model, None) if model is not None else (None,):
                queue = self._scripts.get(key)
                if queue:
                    return queue.popleft()
            for key in (model, None) if model is not None else (None,):
                if key in self._always:
                    return self._always[key]
        return Behavior()

    # --- inspection -------------------------------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def count(self, path_suffix: str | None = None, model: str | None = None) -> int:
        """How many requests matched `path_suffix` (e.g. "/chat/completions") and `model`."""
        with self._lock:
            return sum(
                1
                for r in self.requests
                if (path_suffix is None or r.path.endswith(path_suffix))
                and (model is None or r.model == model)
            )


_MAGIC = {
    "image/png": b"\x89PNG\r\n\x1a\n",
    "image/jpeg": b"\xff\xd8\xff",
    "image/gif": b"GIF8",
    "application/pdf": b"%PDF-",
}


def _data_url(url: Any) -> tuple[str, bytes] | None:
    """(mime, bytes) of a base64 data URL whose bytes really are that mime type."""
    if not isinstance(url, str) or not url.startswith("data:") or ";base64," not in url:
        return None
    mime, _, payload = url[5:].partition(";base64,")
    try:
        data = base64.b64decode(payload, validate=True)
    except ValueError:
        return None
    if mime == "image/webp":
        ok = data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    else:
        ok = mime in _MAGIC and data.startswith(_MAGIC[mime])
    return (mime, data) if ok else None


def describe_parts(body: Any) -> tuple[str | None, str | None]:
    """(description of the attachments, None) for chat messages with content parts,
    (None, error) for a malformed part, (None, None) when every content is a string."""
    seen: list[str] = []
    messages = body.get("messages") if isinstance(body, dict) else None
    for message in messages if isinstance(messages, list) else []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            continue
        if not isinstance(content, list) or not content:
            return None, "content must be a string or a non-empty list of parts"
        for part in content:
            kind = part.get("type") if isinstance(part, dict) else None
            if kind == "text" and isinstance(part.get("text"), str):
                continue
            if kind == "image_url":
                image_url = part.get("image_url")
                url = image_url.get("url") if isinstance(image_url, dict) else None
                decoded = _data_url(url)
                if decoded is not None and decoded[0].startswith("image/"):
                    seen.append(f"an image ({decoded[0]}, {len(decoded[1])} bytes)")
                elif isinstance(url, str) and url.startswith(("http://", "https://")):
                    seen.append(f"an image at {url.split('?')[0]}")  # query: may be a key
                else:
                    return None, "image_url.url must be an image data URL or an http(s) URL"
                continue
            if kind == "file":
                file = part.get("file") if isinstance(part.get("file"), dict) else {}
                decoded = _data_url(file.get("file_data"))
                if decoded is None or decoded[0] != "application/pdf" or not file.get("filename"):
                    return None, "file parts need a filename and a PDF data URL"
                seen.append(f"a PDF named {file['filename']} ({len(decoded[1])} bytes)")
                continue
            return None, f"unsupported content part {kind!r}"
    return ("I see " + "; ".join(seen)) if seen else None, None


def _embedding(text: str) -> list[float]:
    """A deterministic unit-ish vector derived from the text."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return [round((b - 127.5) / 127.5, 6) for b in digest[:EMBEDDING_DIM]]


def _split_words(text: str) -> list[str]:
    parts: list[str] = []
    current = ""
    for ch in text:
        current += ch
        if ch == " ":
            parts.append(current)
            current = ""
    if current:
        parts.append(current)
    return parts or [""]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    # --- entry points -----------------------------------------------------------

    def do_GET(self) -> None:
        self._handle(None)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        self._handle(body)

    def _handle(self, body: Any) -> None:
        fake = self.server.fake
        path = self.path.split("?", 1)[0].rstrip("/")
        model = body.get("model") if isinstance(body, dict) else None
        fake._record(
            RecordedRequest(
                path=path,
                method=self.command,
                model=model if isinstance(model, str) else None,
                headers=Headers(self.headers.items()),
                body=body,
            )
        )
        try:
            self._dispatch(fake, path, body, model if isinstance(model, str) else None)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away (e.g. its timeout fired)

    def _dispatch(self, fake: FakeProvider, path: str, body: Any, model: str | None) -> None:
        if fake.api_key is not None:
            auth = self.headers.get("Authorization", "")
            if auth != f"Bearer {fake.api_key}":
                behavior = fake._behavior_for(model)
                message = "Incorrect API key provided"
                if behavior.echo_auth:
                    message += f": {auth}"
                self._send_error_json(401, message, {}, code="invalid_api_key")
                return
        behavior = fake._behavior_for(model)
        fmt = body.get("response_format") if isinstance(body, dict) else None
        if behavior.json_object_only and isinstance(fmt, dict):
            if fmt.get("type") != "json_object":
                self._send_error_json(500, LLAMA_JSON_SCHEMA_REFUSAL, {})
                return
            body = {k: v for k, v in body.items() if k != "response_format"}
            fmt = {"json_schema": {"schema": fmt.get("schema") or {"type": "object"}}}
        problem = _structured_problem(body) if path.endswith("/chat/completions") else None
        if problem is not None:
            self._send_error_json(400, f"fake: {problem}", {}, code="invalid_request")
            return
        if behavior.schema_answer is not None and fmt is not None:
            sample = _sample(fmt["json_schema"]["schema"], behavior.schema_answer == "invalid")
            behavior = replace(behavior, text=json.dumps(sample))
        if behavior.delay_s:
            time.sleep(behavior.delay_s)
        if behavior.status != 200:
            message = behavior.error_message or f"fake error {behavior.status}"
            if behavior.echo_auth:
                message += f" (received Authorization: {self.headers.get('Authorization', '')})"
            self._send_error_json(
                behavior.status, message, behavior.headers, code=behavior.error_code
            )
            return
        if path.endswith("/models") and self.command == "GET":
            data = {
                "object": "list",
                "data": [
                    {"id": m, "object": "model", "created": 1700000000, "owned_by": "fake"}
                    for m in fake.models
                ],
            }
            self._send_json(200, data, behavior)
        elif path.endswith("/chat/completions") and self.command == "POST":
            seen, bad = describe_parts(body)  # content parts: checked, then described
            if bad is not None:
                self._send_error_json(400, bad, {}, code="invalid_content_part")
                return
            if seen is not None:
                behavior = replace(behavior, text=seen)
            if isinstance(body, dict) and body.get("stream"):
                self._stream(body, behavior, chat=True)
            else:
                self._send_json(200, self._completion_body(body, behavior, chat=True), behavior)
        elif path.endswith("/completions") and self.command == "POST":
            if isinstance(body, dict) and body.get("stream"):
                self._stream(body, behavior, chat=False)
            else:
                self._send_json(200, self._completion_body(body, behavior, chat=False), behavior)
        elif path.endswith("/embeddings") and self.command == "POST":
            self._send_json(200, self._embedding_body(body, behavior), behavior)
        else:
            self._send_error_json(404, f"no route for {self.command} {path}", {})

    # --- bodies -----------------------------------------------------------------

    @staticmethod
    def _usage(behavior: Behavior, body: Any = None) -> dict[str, int]:
        prompt = template_prompt_tokens(body) if behavior.template_tokens else None
        prompt = behavior.prompt_tokens if prompt is None else prompt
        completion = behavior.completion_tokens
        limit = None
        if isinstance(body, dict):
            limit = body.get("max_completion_tokens") or body.get("max_tokens")
        if behavior.honour_max_tokens and isinstance(limit, int):
            completion = min(completion, limit)
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }

    def _completion_body(self, body: Any, behavior: Behavior, *, chat: bool) -> dict[str, Any]:
        model = body.get("model") if isinstance(body, dict) else None
        if behavior.no_choices:
            choices: list[dict[str, Any]] = []
        elif chat and behavior.tool_calls is not None:
            calls = [
                {"id": f"call_{i}", "type": "function", "function": dict(c)}
                for i, c in enumerate(behavior.tool_calls)
            ]
            message = {"role": "assistant", "content": None, "tool_calls": calls}
            choices = [{"index": 0, "message": message, "finish_reason": "tool_calls"}]
        elif chat:
            choices = [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": behavior.text},
                    "finish_reason": behavior.finish_reason,
                }
            ]
        else:
            choices = [
                {
                    "index": 0,
                    "text": behavior.text,
                    "logprobs": None,
                    "finish_reason": behavior.finish_reason,
                }
            ]
        return {
            "id": "fake-1",
            "object": "chat.completion" if chat else "text_completion",
            "created": int(time.time()),
            "model": model or "unknown",
            "choices": choices,
            "usage": self._usage(behavior, body),
        }

    def _embedding_body(self, body: Any, behavior: Behavior) -> dict[str, Any]:
        raw_input = body.get("input") if isinstance(body, dict) else None
        texts = [raw_input] if isinstance(raw_input, str) else list(raw_input or [])
        return {
            "object": "list",
            "model": body.get("model") if isinstance(body, dict) else "unknown",
            "data": [
                {
                    "object": "embedding",
                    "index": i,
                    "embedding": (
                        [_embedding(w) for w in str(t).split()]
                        if behavior.embedding_per_token
                        else _embedding(str(t))
                    ),
                }
                for i, t in enumerate(texts)
            ],
            "usage": {
                "prompt_tokens": behavior.prompt_tokens,
                "total_tokens": behavior.prompt_tokens,
            },
        }

    # --- senders ----------------------------------------------------------------

    def _send_json(self, status: int, data: Any, behavior: Behavior) -> None:
        payload = b'{"choices": [ {"broken' if behavior.malformed else json.dumps(data).encode()
        self._send_bytes(status, payload, behavior.headers)

    def _send_error_json(
        self, status: int, message: str, headers: dict[str, str], *, code: str | None = None
    ) -> None:
        err = {"error": {"message": message, "type": "fake_error", "code": code}}
        self._send_bytes(status, json.dumps(err).encode(), headers)

    def _send_bytes(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _stream(self, body: dict[str, Any], behavior: Behavior, *, chat: bool) -> None:
        model = body.get("model") or "unknown"
        want_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache")
        for k, v in behavior.headers.items():
            self.send_header(k, v)
        self.end_headers()
        deltas = behavior.chunks if behavior.chunks is not None else _split_words(behavior.text)
        tool_deltas = behavior.tool_call_deltas
        if tool_deltas is None and behavior.tool_calls is not None:
            tool_deltas = _default_tool_deltas(behavior.tool_calls)
        if tool_deltas is not None:
            deltas = []
        base = {
            "id": "fake-stream-1",
            "object": "chat.completion.chunk" if chat else "text_completion",
            "created": int(time.time()),
            "model": model,
        }
        events: list[dict[str, Any]] = []
        if chat:
            events.append(
                {
                    **base,
                    "choices": [
                        {"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}
                    ],
                }
            )
        for delta in deltas:
            choice: dict[str, Any] = (
                {"index": 0, "delta": {"content": delta}, "finish_reason": None}
                if chat
                else {"index": 0, "text": delta, "finish_reason": None}
            )
            events.append({**base, "choices": [choice]})
        for tool_delta in tool_deltas or ():
            choice = {"index": 0, "delta": {"tool_calls": tool_delta}, "finish_reason": None}
            events.append({**base, "choices": [choice]})
        finish = "tool_calls" if tool_deltas is not None else behavior.finish_reason
        last: dict[str, Any] = (
            {"index": 0, "delta": {}, "finish_reason": finish}
            if chat
            else {"index": 0, "text": "", "finish_reason": behavior.finish_reason}
        )
        events.append({**base, "choices": [last]})
        if want_usage and behavior.stream_usage:
            events.append({**base, "choices": [], "usage": self._usage(behavior, body)})

        for i, event in enumerate(events):
            if behavior.close_early_after is not None and i >= behavior.close_early_after:
                self.wfile.write(b"0\r\n\r\n")  # a well-formed end of the chunked body
                self.wfile.flush()
                return
            if behavior.drop_after_chunks is not None and i >= behavior.drop_after_chunks:
                self._drop()
                return
            if i and behavior.chunk_delay_s:
                time.sleep(behavior.chunk_delay_s)
            if behavior.malformed and i == 1:
                self._write_chunk(b"data: {not json\n\n")
                continue
            self._write_chunk(b"data: " + json.dumps(event).encode() + b"\n\n")
        self._write_chunk(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _drop(self) -> None:
        """Close the socket abruptly, without the terminating chunk."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _structured_problem(body: Any) -> str | None:
    """What is wrong with a chat request's response_format / tools / tool_choice, if anything."""
    if not isinstance(body, dict):
        return None
    fmt = body.get("response_format")
    if fmt is not None:
        spec = fmt.get("json_schema") if isinstance(fmt, dict) else None
        if fmt.get("type") != "json_schema" or not isinstance(spec, dict):
            return "response_format must be {type: json_schema, json_schema: {...}}"
        if not isinstance(spec.get("name"), str) or not isinstance(spec.get("schema"), dict):
            return "json_schema needs a name and a schema object"
        if not isinstance(spec.get("strict"), bool):
            return "json_schema.strict must be a boolean"
    tools = body.get("tools")
    names: list[str] = []
    if tools is not None:
        for tool in tools if isinstance(tools, list) else [None]:
            function = tool.get("function") if isinstance(tool, dict) else None
            if not isinstance(tool, dict) or tool.get("type") != "function":
                return "each tool needs type function"
            if not isinstance(function, dict) or not isinstance(function.get("name"), str):
                return "each tool needs function.name"
            names.append(function["name"])
    choice = body.get("tool_choice")
    if choice is not None:
        if tools is None:
            return "tool_choice without tools"
        if isinstance(choice, dict):
            if (choice.get("function") or {}).get("name") not in names:
                return "tool_choice names no tool"
        elif choice not in ("auto", "none", "required"):
            return "bad tool_choice"
    return None


def _sample(schema: Any, invalid: bool = False) -> Any:
    """A document shaped by `schema` (or, with `invalid`, one that breaks it at one field)."""
    if not isinstance(schema, dict):
        return None
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        doc = {k: _sample(v) for k, v in (schema.get("properties") or {}).items()}
        if invalid:
            required = list(schema.get("required") or doc)
            if not required:
                return []
            wrong = doc.get(required[0])
            doc[required[0]] = 12345 if isinstance(wrong, str) else "not the right type"
        return doc
    if invalid:
        return {"unexpected": True}
    if kind == "array":
        return [_sample(schema.get("items", {"type": "string"}))]
    return {"string": "text", "integer": 7, "number": 1.5, "boolean": True}.get(str(kind), "x")


def _default_tool_deltas(calls: list[dict[str, str]]) -> list[list[dict[str, Any]]]:
    """Stream deltas of `calls`: the name first, then the arguments 3 characters at a time,
    the calls interleaved (call 0 piece, call 1 piece, …) as some servers send them."""
    deltas: list[list[dict[str, Any]]] = [
        [
            {
                "index": i,
                "id": f"call_{i}",
                "type": "function",
                "function": {"name": c["name"], "arguments": ""},
            }
        ]
        for i, c in enumerate(calls)
    ]
    pieces = [[c["arguments"][j : j + 3] for j in range(0, len(c["arguments"]), 3)] for c in calls]
    for step in range(max((len(p) for p in pieces), default=0)):
        for i, parts in enumerate(pieces):
            if step < len(parts):
                deltas.append([{"index": i, "function": {"arguments": parts[step]}}])
    return deltas
