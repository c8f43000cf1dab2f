"""Generation parameters of a chat or completions body: checked, forwarded or refused.

Forwarded to the provider as sent (and to every fallback): `temperature`, `top_p`,
`seed`, `presence_penalty`, `frequency_penalty`, `logit_bias` (token ids are the
tokenizer's of whichever model answers), and the output limit (`max_tokens`, or
`max_completion_tokens`, which wins). Refused with a 400 naming the param, because
jarvis cannot honour them and silently answering otherwise would mislead: `n` (and
`best_of`) above 1, `logprobs`/`top_logprobs`, audio `modalities`, and a completion's
`echo`. Out-of-range values are the 400s OpenAI gives. Other fields (`user`,
`metadata`, `store`, `service_tier`, ...) are ignored, as proxies do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jarvis_cli.serve.errors import bad_request

# name -> (low, high) for the numbers forwarded as sent; seed is any integer.
_RANGES = {
    "top_p": (0, 1),
    "presence_penalty": (-2, 2),
    "frequency_penalty": (-2, 2),
}
_NO_LOGPROBS = "logprobs are not supported by jarvis serve (it returns none)"


def field(
    body: Mapping[str, Any], name: str, kinds: type | tuple[type, ...], default: Any = None
) -> Any:
    """`body[name]` checked against `kinds` (a bool is not a number); `default` if absent."""
    value = body.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) and bool not in (kinds if isinstance(kinds, tuple) else (kinds,)):
        raise bad_request(f"'{name}' has the wrong type", param=name)
    if not isinstance(value, kinds):
        raise bad_request(f"'{name}' has the wrong type", param=name)
    return value


def max_tokens(body: Mapping[str, Any]) -> int | None:
    """max_completion_tokens when sent (it replaces max_tokens), else max_tokens."""
    for name in ("max_completion_tokens", "max_tokens"):
        value = field(body, name, int)
        if value is None:
            continue
        if value < 1:
            raise bad_request(f"{name} must be at least 1", param=name)
        return value  # type: ignore[no-any-return]
    return None


def temperature(body: Mapping[str, Any]) -> float | None:
    value = field(body, "temperature", (int, float))
    if value is not None and not 0 <= value <= 2:
        raise bad_request("temperature must be from 0 to 2", param="temperature")
    return None if value is None else float(value)


def _logit_bias(body: Mapping[str, Any]) -> dict[str, float] | None:
    bias = field(body, "logit_bias", dict)
    if bias is None:
        return None
    for token, weight in bias.items():
        number = isinstance(weight, int | float) and not isinstance(weight, bool)
        if not token.isdigit() or not number or not -100 <= weight <= 100:
            raise bad_request(
                'logit_bias maps token ids to -100..100, e.g. {"50256": -100}',
                param="logit_bias",
            )
    return dict(bias)


def sampling(body: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    """The sampling fields to forward as sent, checked; temperature travels apart."""
    out: list[tuple[str, Any]] = []
    for name, (low, high) in _RANGES.items():
        value = field(body, name, (int, float))
        if value is None:
            continue
        if not low <= value <= high:
            raise bad_request(f"{name} must be from {low} to {high}", param=name)
        out.append((name, value))
    seed = field(body, "seed", int)
    if seed is not None:
        out.append(("seed", seed))
    bias = _logit_bias(body)
    if bias:
        out.append(("logit_bias", bias))
    return tuple(out)


def refuse_unhonourable(body: Mapping[str, Any], *, chat: bool) -> None:
    """A 400 naming the first field jarvis cannot honour (see the module's docstring)."""
    if field(body, "n", int, 1) != 1:
        raise bad_request("only n=1 is supported", param="n")
    if chat:
        if field(body, "logprobs", bool, False):
            raise bad_request(_NO_LOGPROBS, param="logprobs")
        if field(body, "top_logprobs", int, 0) > 0:
            raise bad_request(_NO_LOGPROBS, param="top_logprobs")
        modalities = field(body, "modalities", list, [])
        if any(m != "text" for m in modalities):
            raise bad_request("only text output is supported", param="modalities")
        return
    if field(body, "best_of", int, 1) != 1:
        raise bad_request("only best_of=1 is supported", param="best_of")
    if field(body, "echo", bool, False):
        raise bad_request(
            "echo is not supported (the answer never repeats the prompt)", param="echo"
        )
    if field(body, "logprobs", int) is not None:
        raise bad_request(_NO_LOGPROBS, param="logprobs")
