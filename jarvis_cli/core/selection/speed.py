"""How long a request is expected to take on each model: measured when jarvis has
measured it, else a documented prior.

Expected latency = time to first token (TTFT) + output tokens / output tokens per
second, for the expected output: 500 tokens unless told, or the model's mean from its
outcomes (selection/learned_output.py).

- **Measured** (`speed source: measured`): the model's median TTFT and throughput
  over recent successful streamed attempts (selection/metrics.py; `jarvis models
  probe` makes one in a single command). A model measured only by non-streamed
  requests has no TTFT: its median whole-request latency is used as it is. A
  measured TTFT without a throughput (one-token answers) takes the prior's
  throughput.
- **Prior** (`speed source: prior`), from the model's *size class*:

  | class  | TTFT    | tokens/s | what puts a model there                            |
  |--------|---------|----------|----------------------------------------------------|
  | small  | 450 ms  | 160      | nano, mini, lite, flash, haiku, small, tiny, micro, |
  |        |         |          | instant, fast; <= 15B parameters; output <= $1/Mtok |
  | medium | 700 ms  | 80       | anything else (sonnet, 4o, 70B, ...)               |
  | large  | 1200 ms | 45       | opus, pro, ultra, large, max; >= 200B parameters;   |
  |        |         |          | output >= $20/Mtok                                  |

  plus 1500 ms of thinking before the first visible token for models the catalog
  marks as reasoning models. Words in the name win over the parameter count, which
  wins over the price (a name says what the vendor sells it as; the price is the
  weakest hint). Embeddings: 300 ms whatever the model.

Why these numbers: no public per-model speed table could be bundled with a licence
that allows it, so the prior is a class, not a per-model figure. The three classes'
figures are round medians of what providers publish for their own tiers (a
"flash/mini/haiku" model streams roughly 2-4x faster than its "pro/opus" sibling
and starts sooner); they only need to order the classes right and give
`--max-latency` a sane first guess. Any measurement replaces them, and `select`
shows which one a row uses.
"""

# No `from __future__ import annotations`: typing.NamedTuple compiles each string
# annotation at import (a ForwardRef per field), ~40 % of its classes' cost.

import functools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

from jarvis_cli.core.providers.capabilities import RequestKind


class SpeedPrior(NamedTuple):
    ttft_ms: float
    tokens_per_s: float


CLASSES: dict[str, SpeedPrior] = {
    "small": SpeedPrior(450.0, 160.0),
    "medium": SpeedPrior(700.0, 80.0),
    "large": SpeedPrior(1200.0, 45.0),
}
REASONING_TTFT_MS = 1500.0
EMBEDDING_MS = 300.0
SMALL_MAX_PARAMS_B = 15.0
LARGE_MIN_PARAMS_B = 200.0
SMALL_MAX_OUTPUT_PRICE = 1.0  # USD per million output tokens
LARGE_MIN_OUTPUT_PRICE = 20.0


@functools.cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """Compiled on first use: a warm selection reads the classes from a snapshot."""
    small = re.compile(
        r"(?:^|[-_/.:])(nano|mini|lite|flash|haiku|small|tiny|micro|instant|fast)"
        r"(?=$|[-_/.:\d])",
        re.IGNORECASE,
    )
    large = re.compile(r"(?:^|[-_/.:])(opus|pro|ultra|large|max)(?=$|[-_/.:\d])", re.IGNORECASE)
    # 8b, 70B, 1.5b; an active-parameter count of a mixture of experts (`-a22b`) wins.
    params = re.compile(r"(?:^|[-_/.:])(a)?(\d+(?:\.\d+)?)b(?=$|[-_/.:])", re.IGNORECASE)
    return small, large, params


def class_from_name(name: str) -> str | None:
    """`small` or `large` when the name says so (a word, else a parameter count), else
    None (the price decides; medium when it cannot)."""
    small, large, params = _patterns()
    if small.search(name):
        return "small"
    if large.search(name):
        return "large"
    sizes = params.findall(name)
    if sizes:
        active = [float(n) for a, n in sizes if a]
        billions = active[0] if active else max(float(n) for _, n in sizes)
        if billions <= SMALL_MAX_PARAMS_B:
            return "small"
        if billions >= LARGE_MIN_PARAMS_B:
            return "large"
        return "medium"
    return None


def class_from_price(output_price_per_mtok: float) -> str:
    """The class a model's output price suggests (NaN or $0, i.e. unknown: medium)."""
    p = output_price_per_mtok
    if p != p or p <= 0:
        return "medium"
    if p <= SMALL_MAX_OUTPUT_PRICE:
        return "small"
    if p >= LARGE_MIN_OUTPUT_PRICE:
        return "large"
    return "medium"


def prior_latency_ms(size: str, reasoning: bool, output_tokens: int, kind: RequestKind) -> float:
    """The prior expected latency of a request with `output_tokens` on a model of `size`."""
    if kind == "embedding":
        return EMBEDDING_MS
    c = CLASSES[size]
    return (
        c.ttft_ms
        + (REASONING_TTFT_MS if reasoning else 0.0)
        + output_tokens * 1000.0 / (c.tokens_per_s)
    )


class Speeds(NamedTuple):
    """Expected latency of each candidate, aligned with them."""

    latency_ms: list[float]
    measured: list[bool]
    classes: list[str]  # size class (what the prior used, or would have)


def size_classes(
    positions: Sequence[int], by_name: Mapping[int, str], output_price: Sequence[float]
) -> list[str]:
    """The size class of the models at `positions`: what the name says (`by_name`, from
    `class_from_name`), else `class_from_price` (inlined: this runs for 10,000 models)."""
    lo, hi = SMALL_MAX_OUTPUT_PRICE, LARGE_MIN_OUTPUT_PRICE
    by_price = [
        "medium" if not (p := output_price[i]) > 0 else "small" if p <= lo else "large" if p >= hi
        else "medium"
        for i in positions
    ]  # fmt: skip
    if by_name:
        return [by_name.get(i) or c for i, c in zip(positions, by_price, strict=True)]
    return by_price


def expected_latencies(
    kind: RequestKind,
    output_tokens: int | Sequence[int],
    classes: Sequence[str],
    reasoning: Callable[[int], bool],
    ttft_ms: Sequence[float],
    tps: Sequence[float],
    p50_ms: Sequence[float],
) -> Speeds:
    """Expected latency per candidate (NaN in the measured columns = not measured);
    `reasoning(k)` says whether candidate k is a reasoning model (asked of priors only).
    `output_tokens`: the request's, or each candidate's (learned from outcomes)."""
    nan = math.nan
    each, tokens = (None, output_tokens) if isinstance(output_tokens, int) else (output_tokens, 0)
    rate_of = {name: c.tokens_per_s for name, c in CLASSES.items()}
    if kind == "embedding":
        latency = [p if p == p else nan for p in p50_ms]
    elif each is None:
        out_ms = tokens * 1000.0
        latency = [
            (t + out_ms / (r if r > 0.0 else rate_of[c])) if t == t else p
            for t, r, p, c in zip(ttft_ms, tps, p50_ms, classes, strict=True)
        ]
    else:
        latency = [
            (t + o * 1000.0 / (r if r > 0.0 else rate_of[c])) if t == t else p
            for t, r, p, c, o in zip(ttft_ms, tps, p50_ms, classes, each, strict=True)
        ]
    measured = [x == x for x in latency]
    if not all(measured):
        if each is None:
            priors = {
                (size, thinks): prior_latency_ms(size, thinks, tokens, kind)
                for size in CLASSES
                for thinks in (False, True)
            }
        for k, known in enumerate(measured):
            if known:
                continue
            if each is None:
                latency[k] = priors[classes[k], reasoning(k)]
            else:
                latency[k] = prior_latency_ms(classes[k], reasoning(k), each[k], kind)
    return Speeds(latency, measured, list(classes))


def describe(measured: bool, size: str, reasoning: bool, output_tokens: int) -> str:
    """`prior: small class, 500 output tokens` / `measured`: where a latency comes from."""
    if measured:
        return "measured"
    thinking = ", reasoning" if reasoning else ""
    return f"prior: {size} class{thinking}, {output_tokens} output tokens"
