"""The OpenAI wire format: request bodies -> CompletionRequest, Outcomes -> responses.

Sampling fields are forwarded, and fields jarvis cannot honour refused, by
serve/params.py; other unknown fields are ignored, as proxies do (`stop` is applied
by the server itself, serve/stops.py); known fields of the wrong type are 400s
naming the field.
`developer` messages become `system` messages (every provider knows that role);
image parts make the request need `vision`, tools `function_calling`, a json_schema
`structured_output`, so a routed name selects a model that has them.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, NamedTuple

from jarvis_cli.core.providers.base import Message
from jarvis_cli.core.runs.requests import CompletionRequest, Outcome
from jarvis_cli.serve.errors import ApiError, bad_request
from jarvis_cli.serve.params import (
    field,
    max_tokens,
    refuse_unhonourable,
    sampling,
    temperature,
)

MAX_MESSAGES = 5000
ROUTED_PREFIX = "jarvis/"
_ROLES = {
    "system": "system",
    "developer": "system",
    "user": "user",
    "assistant": "assistant",
    "tool": "tool",
}


class Route(NamedTuple):
    """What the `model` field asks for: a concrete model id, or selection by a strategy."""

    model: str | None
    strategy: str | None


def _text_of(parts: list[Any], where: str) -> tuple[str, tuple[dict[str, Any], ...], bool]:
    """The text of content parts, the parts as sent, and whether one is an image."""
    texts: list[str] = []
    image = False
    for part in parts:
        if not isinstance(part, dict) or not isinstance(part.get("type"), str):
            raise bad_request(f"{where}: each content part needs a 'type'", param="messages")
        if part["type"] == "text":
            if not isinstance(part.get("text"), str):
                raise bad_request(f"{where}: a text part needs 'text'", param="messages")
            texts.append(part["text"])
        elif part["type"] == "image_url":
            url = part.get("image_url")
            url = url.get("url") if isinstance(url, dict) else None
            if not isinstance(url, str):
                raise bad_request(f"{where}: an image part needs image_url.url", param="messages")
            image = True
    return "\n".join(texts), tuple(parts), image


def messages_of(raw: Any) -> tuple[tuple[Message, ...], bool]:
    """The messages of a chat body, and whether any carries an image."""
    if not isinstance(raw, list) or not raw:
        raise bad_request("'messages' must be a non-empty array", param="messages")
    if len(raw) > MAX_MESSAGES:
        raise bad_request(
            f"'messages' has {len(raw)} items; at most {MAX_MESSAGES} are accepted",
            param="messages",
            code="too_many_messages",
        )
    out: list[Message] = []
    any_image = False
    for i, item in enumerate(raw):
        where = f"messages[{i}]"
        if not isinstance(item, dict):
            raise bad_request(f"{where} must be an object", param="messages")
        raw_role = item.get("role")
        role = _ROLES.get(raw_role) if isinstance(raw_role, str) else None
        if role is None:
            raise bad_request(
                f"{where}: unknown role {str(item.get('role'))[:40]!r}", param="messages"
            )
        content = item.get("content")
        parts: tuple[dict[str, Any], ...] = ()
        if content is None:
            text = ""
        elif isinstance(content, str):
            text = content
        elif isinstance(content, list):
            text, parts, image = _text_of(content, where)
            any_image = any_image or image
            if not image and role != "user":
                parts = ()  # plain text parts: sent as text (every provider takes that)
        else:
            raise bad_request(f"{where}: 'content' must be a string or an array", param="messages")
        extra: list[tuple[str, Any]] = []
        if role == "assistant" and item.get("tool_calls"):
            if not isinstance(item["tool_calls"], list):
                raise bad_request(f"{where}: 'tool_calls' must be an array", param="messages")
            extra.append(("tool_calls", item["tool_calls"]))
        if role == "tool":
            if not isinstance(item.get("tool_call_id"), str):
                raise bad_request(f"{where}: a tool message needs 'tool_call_id'", param="messages")
            extra.append(("tool_call_id", item["tool_call_id"]))
        if isinstance(item.get("name"), str) and role != "tool":
            extra.append(("name", item["name"]))
        out.append(Message(role, text, parts, tuple(extra)))  # type: ignore[arg-type]
    return tuple(out), any_image


def _tools(body: Mapping[str, Any]) -> tuple[tuple[dict[str, Any], ...], Any]:
    tools = field(body, "tools", list, [])
    for tool in tools:
        fn = tool.get("function") if isinstance(tool, dict) else None
        if (
            not isinstance(fn, dict)
            or tool.get("type") != "function"
            or not isinstance(fn.get("name"), str)
        ):
            raise bad_request("each tool needs type 'function' and function.name", param="tools")
    choice = body.get("tool_choice")
    if choice is not None and not isinstance(choice, str | dict):
        raise bad_request("'tool_choice' has the wrong type", param="tool_choice")
    if choice is not None and not tools:
        choice = None
    return tuple(tools), choice


def _schema(body: Mapping[str, Any]) -> dict[str, Any] | None:
    fmt = field(body, "response_format", dict)
    if fmt is None or fmt.get("type") == "text":
        return None
    if fmt.get("type") == "json_object":
        return {"type": "object"}
    if fmt.get("type") == "json_schema":
        spec = fmt.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, dict) else None
        if not isinstance(schema, dict):
            raise bad_request(
                "response_format.json_schema.schema must be an object", param="response_format"
            )
        from jarvis_cli.core.errors import UsageError
        from jarvis_cli.core.runs.structured import check_schema

        try:
            check_schema(schema, "response_format")
        except UsageError as exc:
            raise bad_request(exc.message, param="response_format") from None
        return schema
    raise bad_request(
        "response_format.type must be text, json_object or json_schema", param="response_format"
    )


def _common(body: Mapping[str, Any], route: Route, *, chat: bool = True) -> dict[str, Any]:
    refuse_unhonourable(body, chat=chat)
    field(body, "stream", bool, False)
    return {
        "model": route.model,
        # A named model is tried first, then selection's models (`--fallback auto`).
        "fallbacks": ("auto",) if route.model else (),
        "strategy": route.strategy,
        "max_tokens": max_tokens(body),
        "temperature": temperature(body),
        "sampling": sampling(body),
        "stream": bool(body.get("stream")),
    }


def chat_request(body: Mapping[str, Any], route: Route) -> CompletionRequest:
    messages, image = messages_of(body.get("messages"))
    tools, choice = _tools(body)
    return CompletionRequest(
        messages=messages,
        capabilities=("vision",) if image else (),
        schema=_schema(body),
        tools=tools,
        tool_choice=choice,
        **_common(body, route),
    )


def completion_request(body: Mapping[str, Any], route: Route) -> CompletionRequest:
    prompt = body.get("prompt")
    if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
        prompt = prompt[0]
    if not isinstance(prompt, str):
        raise bad_request("'prompt' must be a string (one prompt per request)", param="prompt")
    if body.get("suffix"):
        raise bad_request("'suffix' (fill-in-the-middle) is not supported", param="suffix")
    return CompletionRequest(
        messages=(Message("user", prompt),), kind="completion", **_common(body, route, chat=False)
    )


def _token_ids(value: Any) -> bool:
    """Whether `value` is token ids (an array of ints, or of arrays of ints)."""
    if not isinstance(value, list) or not value:
        return False
    if all(isinstance(t, int) and not isinstance(t, bool) for t in value):
        return True
    return all(isinstance(v, list) and v and all(isinstance(t, int) for t in v) for v in value)


def embedding_inputs(body: Mapping[str, Any]) -> list[str]:
    raw = body.get("input")
    if isinstance(raw, str):
        raw = [raw]
    if _token_ids(raw):
        raise bad_request(
            "'input' holds token ids, which jarvis cannot read (each provider tokenizes "
            "differently): send the text (LangChain's OpenAIEmbeddings: "
            "check_embedding_ctx_length=False)",
            param="input",
            code="token_ids_unsupported",
        )
    if not isinstance(raw, list) or not raw or not all(isinstance(t, str) for t in raw):
        raise bad_request("'input' must be a string or an array of strings", param="input")
    if len(raw) > 2048:
        raise bad_request("'input' has more than 2048 items", param="input")
    fmt = body.get("encoding_format", "float")
    if fmt not in ("float", "base64"):
        raise bad_request("encoding_format must be float or base64", param="encoding_format")
    return list(raw)


# --- responses -----------------------------------------------------------------------


def usage_json(outcome: Outcome) -> dict[str, int] | None:
    """The tokens the provider reported; null when it reported none (llama-cpp-python's
    streams, for one): a made-up 0 would be read as a free request."""
    u = outcome.usage
    if u.prompt_tokens is None and u.completion_tokens is None and u.total_tokens is None:
        return None
    prompt, completion = u.prompt_tokens or 0, u.completion_tokens or 0
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": u.total_tokens or prompt + completion,
    }


def tool_calls_json(outcome: Outcome) -> list[dict[str, Any]]:
    return [
        {
            "id": c.id or f"call_{i}",
            "type": "function",
            "function": {"name": c.name, "arguments": c.arguments},
        }
        for i, c in enumerate(outcome.tool_calls)
    ]


def chat_response(outcome: Outcome) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": outcome.text, "refusal": None}
    if outcome.tool_calls:
        message["tool_calls"] = tool_calls_json(outcome)
        message["content"] = outcome.text or None
    return {
        "id": f"chatcmpl-{outcome.request_id}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": outcome.model_id,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": outcome.finish_reason or "stop",
            }
        ],
        "usage": usage_json(outcome),
        "system_fingerprint": None,
    }


def completion_response(outcome: Outcome) -> dict[str, Any]:
    return {
        "id": f"cmpl-{outcome.request_id}",
        "object": "text_completion",
        "created": int(time.time()),
        "model": outcome.model_id,
        "choices": [
            {
                "index": 0,
                "text": outcome.text,
                "logprobs": None,
                "finish_reason": outcome.finish_reason or "stop",
            }
        ],
        "usage": usage_json(outcome),
    }


def embedding_response(outcome: Outcome, encoding: str) -> dict[str, Any]:
    data = []
    for i, vector in enumerate(outcome.embeddings or []):
        value: Any = vector
        if encoding == "base64":
            import base64
            import struct

            value = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
        data.append({"object": "embedding", "index": i, "embedding": value})
    u = outcome.usage
    return {
        "object": "list",
        "data": data,
        "model": outcome.model_id,
        "usage": {
            "prompt_tokens": u.prompt_tokens or 0,
            "total_tokens": u.total_tokens or u.prompt_tokens or 0,
        },
    }


def chunk(
    request_id: str, model: str, created: int, delta: dict[str, Any], finish: str | None = None
) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{request_id}",
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "system_fingerprint": None,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }


def unknown_model(model: str) -> ApiError:
    return ApiError(
        404, f"The model '{model}' does not exist or is not usable here", code="model_not_found"
    )
