"""Token bounds: how many tokens a provider can bill for a request, at most.

A budget reservation must bound the bill, not guess it (issue 23). Two parts:

- **Output** is bounded by the output limit jarvis sends (`max_tokens`, or
  `max_completion_tokens`) plus an allowance: at least OUTPUT_RULE_TOKENS (16), since
  a server may finish a UTF-8 character split across byte tokens past the limit
  (llama.cpp does: `benchmarks/llama_overshoot.py` measured up to +3, CI saw +4; a
  character is at most 4 bytes, so 16 is four characters each split into single
  bytes), or what the model's provider was seen to bill past the limit it was sent,
  plus the margin below, whichever is larger (`output_allowance`).
- **Input** is bounded, before anything is measured, by a rule:

      ascii bytes + other UTF-8 bytes + PER_MESSAGE x messages + PER_REQUEST + extra

  Why it holds: a byte-level BPE tokenizer (GPT, Llama 3, Qwen, SmolLM, Mistral's
  Tekken...) maps every token to at least one byte of the text, so a text never has
  more tokens than UTF-8 bytes; SentencePiece tokenizers with byte fallback (Llama 2,
  Gemma) likewise, plus at most one dummy-prefix token per text, which the
  per-message allowance covers. PER_MESSAGE (8) covers a chat template's role
  markers around each message (ChatML, Llama 3, Gemma, Mistral use 3 to 6 tokens).
  PER_REQUEST (128) covers what the template adds once (the assistant's header, BOS)
  and a default system prompt the server adds (SmolLM2's is 20 tokens). `extra` is
  the bytes of tool and schema definitions (JSON text: again at most one token per
  byte) plus attachments' estimate (core/runs/attachments.py).

- **Calibration** tightens the input bound per model from what providers billed
  (`InputBound.calibrated`): tokens ~ overhead + per-message allowance + a ratio per
  ASCII byte + a ratio per non-ASCII byte, fitted as the *upper envelope* of the
  samples (every observed bill lies on or under it), plus a 10% + 4-token margin. A
  class of bytes with too few observed bytes keeps the rule's ratio of 1 token per
  byte, so a script never seen stays bounded by the rule. A bill over the bound is an
  overrun; its sample joins the fit, which widens it.
"""

# No `from __future__ import annotations`: typing.NamedTuple compiles each string
# annotation at import (a ForwardRef per field); the few forward references are quoted.

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

PER_MESSAGE = 8
PER_REQUEST = 128
PER_TOOL = 16  # a template's wrapper around each tool definition
MARGIN = 1.10
MARGIN_TOKENS = 4
MIN_CLASS_BYTES = 64  # observed bytes of a class before its ratio is learned
MAX_SAMPLES = 64  # newest answered attempts kept per model
RATIOS = (0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.75, 1.0)
DEFAULT_OUTPUT_LIMIT = 1024  # [budgets] max_output_tokens when not set
OUTPUT_RULE_TOKENS = 16  # output tokens a bill may pass the limit sent by (docstring)


class InputShape(NamedTuple):
    """What the input bound is computed from: a request's text, measured once."""

    ascii_bytes: int
    other_bytes: int  # UTF-8 bytes of non-ASCII characters
    messages: int
    extra_tokens: int = 0  # tools, schema, attachments: not calibrated

    @classmethod
    def of(
        cls,
        texts: Sequence[str],
        *,
        tools: Sequence[Mapping[str, Any]] = (),
        schema: Mapping[str, Any] | None = None,
        attachment_tokens: int = 0,
    ) -> "InputShape":
        """The shape of messages `texts` with these tools, schema and attachments."""
        ascii_bytes = other = 0
        for text in texts:
            if text.isascii():
                ascii_bytes += len(text)
            else:
                a = len(text.encode("ascii", "ignore"))
                ascii_bytes += a
                other += len(text.encode("utf-8")) - a
        extra = attachment_tokens
        for tool in tools:
            extra += len(json.dumps(tool).encode()) + PER_TOOL
        if schema is not None:
            extra += len(json.dumps(schema).encode()) + PER_TOOL
        return cls(ascii_bytes, other, max(1, len(texts)), extra)

    def rule_bound(self) -> int:
        """Input tokens at most, by the rule (module docstring)."""
        return (
            self.ascii_bytes
            + self.other_bytes
            + PER_MESSAGE * self.messages
            + PER_REQUEST
            + self.extra_tokens
        )


class Fit(NamedTuple):
    """A model's calibration: the fitted envelope and how many bills it learned from;
    and, on the output side, the most completion tokens billed past the limit sent."""

    n: int
    overhead: float
    ascii_ratio: float
    other_ratio: float
    typical: float  # mean of billed / bound over the samples: the expected fraction
    output_n: int = 0  # answered attempts with a limit sent and billed completion tokens
    output_overshoot: int = 0  # max(completion tokens - limit sent) over them, >= 0

    def bound(self, shape: InputShape) -> int:
        """Input tokens at most for `shape`, by this calibration."""
        core = (
            self.overhead
            + PER_MESSAGE * shape.messages
            + self.ascii_ratio * shape.ascii_bytes
            + self.other_ratio * shape.other_bytes
        )
        return math.ceil(core * MARGIN) + MARGIN_TOKENS + shape.extra_tokens


def output_allowance(fit: Fit | None) -> tuple[int, str]:
    """Tokens a bill may pass the output limit sent by, at most: "rule" or
    "calibration" (see the module docstring)."""
    if fit is None or fit.output_overshoot <= 0:
        return OUTPUT_RULE_TOKENS, "rule"
    learned = math.ceil(fit.output_overshoot * MARGIN) + MARGIN_TOKENS
    if learned <= OUTPUT_RULE_TOKENS:
        return OUTPUT_RULE_TOKENS, "rule"
    return learned, "calibration"


Sample = tuple[int, int, int, int]  # ascii bytes, other bytes, messages, billed prompt tokens


def fit(samples: Sequence[Sample], n: int) -> Fit:
    """The tightest envelope over `samples` (ratios from RATIOS; see module docstring)."""
    ascii_seen = sum(s[0] for s in samples) >= MIN_CLASS_BYTES
    other_seen = sum(s[1] for s in samples) >= MIN_CLASS_BYTES
    # The line's total over the samples is linear in the overhead and the ratios, so
    # only the overhead (the max residual) needs a pass over the samples per pair.
    unique = set(samples)  # repeated prompts are one constraint
    base = [(b - PER_MESSAGE * m, a, o) for a, o, m, b in unique]
    sum_a = sum(s[0] for s in samples)
    sum_o = sum(s[1] for s in samples)
    count = len(samples)
    best: tuple[float, float, float, float] | None = None
    for ra in RATIOS if ascii_seen else (1.0,):
        rest = [(r - ra * a, o) for r, a, o in base]
        for ro in RATIOS if other_seen else (1.0,):
            overhead = max(0.0, max(r - ro * o for r, o in rest))
            total = count * overhead + ra * sum_a + ro * sum_o  # + the fixed per-message part
            if best is None or total < best[0]:
                best = (total, overhead, ra, ro)
    assert best is not None  # at least one pair is tried
    _, overhead, ra, ro = best
    provisional = Fit(n, overhead, ra, ro, 1.0)
    fractions = [b / max(1, provisional.bound(InputShape(a, o, m))) for a, o, m, b in samples]
    return provisional._replace(typical=sum(fractions) / len(fractions))
