"""CostEstimator: tokens of a request and its price in USD from the registry's prices.

Typical token estimate: ceil(characters / 4), the usual rule of thumb for English text
with OpenAI-style BPE tokenizers (it overestimates code a little and underestimates
CJK text). It is only used before a call; the provider's reported usage replaces it
when the call is recorded. It is not a bound: budgets reserve `request_cost`'s
bound (selection/bound.py), and a model's calibration replaces both figures once
its provider has billed a few requests. A price that the registry does not know stays unknown
(None): it is never treated as free.

The expected output is DEFAULT_OUTPUT_TOKENS (500) unless the model's outcomes say
how many output tokens its answers are billed (`ExpectedOutput`, learned in
selection/learned_output.py); either way capped by the request's output limit. The
bound always takes the whole limit.
"""

# No `from __future__ import annotations` here: typing.NamedTuple compiles every
# string annotation (a ForwardRef per field), ~40 % of these classes' import cost.

import math
from typing import Any, NamedTuple

from jarvis_cli.core.providers.capabilities import RequestKind
from jarvis_cli.core.registry.records import ModelRecord
from jarvis_cli.core.selection.bound import Fit, InputShape, output_allowance

CHARS_PER_TOKEN = 4
DEFAULT_INPUT_TOKENS = 1000  # no prompt and no --input-tokens: the seed's default
DEFAULT_OUTPUT_TOKENS = 500  # chat and completion; embeddings produce no output tokens
TOKENS_PER_MTOK = 1_000_000


def estimate_tokens(text: str) -> int:
    """Prompt tokens of `text`: ceil(len(text) / 4); 0 for empty text."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def default_output_tokens(kind: RequestKind, max_tokens: int | None = None) -> int:
    """Expected output tokens when the request does not say: 500 (capped by max_tokens)."""
    if kind == "embedding":
        return 0
    if max_tokens is not None:
        return min(DEFAULT_OUTPUT_TOKENS, max_tokens)
    return DEFAULT_OUTPUT_TOKENS


class TokenEstimate(NamedTuple):
    """Input and output tokens of a request, and where the input figure came from."""

    input_tokens: int
    output_tokens: int
    input_source: str  # "option" (given), "prompt" (estimated from text), "default"

    @property
    def total(self) -> int:
        return self.input_tokens + self.output_tokens


def estimate_request_tokens(
    kind: RequestKind,
    *,
    prompt: str | None = None,
    input_tokens: int | None = None,
    output_tokens: int | None = None,
    max_tokens: int | None = None,
) -> TokenEstimate:
    """Tokens for a request: an explicit count beats an estimate from the prompt."""
    if input_tokens is not None:
        tokens, source = input_tokens, "option"
    elif prompt:
        tokens, source = estimate_tokens(prompt), "prompt"
    else:
        tokens, source = DEFAULT_INPUT_TOKENS, "default"
    out = output_tokens if output_tokens is not None else default_output_tokens(kind, max_tokens)
    return TokenEstimate(input_tokens=tokens, output_tokens=out, input_source=source)


class CostEstimator:
    """Prices requests with the per-million-token prices of registry records."""

    def estimate(self, model: ModelRecord, input_tokens: int, output_tokens: int) -> float | None:
        """USD for the tokens in and out; None when a needed price is unknown."""
        return cost_usd(model, input_tokens, output_tokens)


def cost_usd(model: ModelRecord, input_tokens: int, output_tokens: int) -> float | None:
    """USD for the given token counts (also usable for actual usage after a call).

    None when a price that matters is unknown: the input price always (if there is
    any input), the output price only if there are output tokens.
    """
    total = 0.0
    if input_tokens:
        if model.input_cost_per_mtok is None:
            return None
        total += input_tokens * model.input_cost_per_mtok / TOKENS_PER_MTOK
    if output_tokens:
        if model.output_cost_per_mtok is None:
            return None
        total += output_tokens * model.output_cost_per_mtok / TOKENS_PER_MTOK
    if input_tokens == 0 and output_tokens == 0 and model.input_cost_per_mtok is None:
        return None
    return total


def output_limit(
    kind: RequestKind, explicit: int | None, default: int, model_max: int | None
) -> int:
    """The output tokens a budgeted request is limited to: an explicit --max-tokens wins;
    else `default` ([budgets] max_output_tokens) capped by the model's known maximum."""
    if kind == "embedding":
        return 0
    if explicit is not None:
        return explicit
    return min(default, model_max) if model_max else default


class ExpectedOutput(NamedTuple):
    """A model's mean billed output tokens from its outcomes, before any cap
    (selection/learned_output.py)."""

    tokens: int
    samples: int  # outcomes behind the mean
    task: str | None  # the task whose outcomes gave it; None: all the model's tasks


def expected_output(learned: ExpectedOutput | None, limit: int) -> int:
    """The output tokens a request is priced at: the learned mean, else
    DEFAULT_OUTPUT_TOKENS; capped by the output `limit`."""
    return min(DEFAULT_OUTPUT_TOKENS if learned is None else learned.tokens, limit)


class RequestCost(NamedTuple):
    """A request's cost on one model: the bound reserved, and the typical expectation."""

    input_bound: int
    output_limit: int
    max_cost_usd: float | None  # the bound: what an honest provider bills at most
    expected_input: int
    expected_output: int
    expected_cost_usd: float | None
    source: str  # "rule" or "calibration" (see selection/bound.py)
    samples: int  # bills the calibration learned from (0 for the rule)
    # Output tokens reserved past the limit sent (a bill may pass it: bound.py), and
    # where that came from: "rule", or "calibration" from `output_samples` bills.
    output_allowance: int = 0
    output_source: str = "rule"
    output_samples: int = 0
    # What `expected_output` came from (learned_output.py): the model's outcomes (their
    # task, None = all its tasks, and how many), or None: DEFAULT_OUTPUT_TOKENS.
    learned_output: ExpectedOutput | None = None

    @property
    def expected_output_source(self) -> str:
        """`outcomes` when the model's outcomes set the expected output, else `default`."""
        return "default" if self.learned_output is None else "outcomes"

    def describe_expected_output(self) -> str:
        """`183 tokens (outcomes for mathematics, n=659)` / `500 tokens (default)`."""
        tokens, learned = self.expected_output, self.learned_output
        if learned is None:
            return f"{tokens} tokens (default)"
        scope = f"for {learned.task}" if learned.task else "over all tasks"
        capped = f", mean {learned.tokens} capped" if tokens < learned.tokens else ""
        return f"{tokens} tokens (outcomes {scope}, n={learned.samples}{capped})"

    @property
    def output_bound(self) -> int:
        """Output tokens reserved: the limit sent + the allowance (0 without output)."""
        return self.output_limit + self.output_allowance if self.output_limit else 0

    def describe(self) -> str:
        """Where the figures came from, for --explain."""
        if self.source == "rule":
            text = "input: rule (UTF-8 bytes + per-message and per-request allowances)"
        elif self.source == "option":
            text = "input: --input-tokens as given"
        else:
            text = f"input: calibration from {self.samples} billed requests"
        return f"{text}; output: {self.describe_output()}"

    def describe_output(self) -> str:
        """Where the output allowance came from, for --explain."""
        if not self.output_limit:
            return "no output tokens"
        if self.output_source == "rule":
            return (
                f"limit sent {self.output_limit} + {self.output_allowance} by rule "
                "(a server may finish a split UTF-8 character past the limit)"
            )
        return (
            f"limit sent {self.output_limit} + {self.output_allowance} by calibration "
            f"(most billed past the limit over {self.output_samples} requests, + margin)"
        )


def request_cost(
    model: ModelRecord,
    shape: InputShape | None,
    fit: Fit | None,
    *,
    output_tokens: int,
    heuristic_input: int,
    learned: ExpectedOutput | None = None,
) -> RequestCost:
    """Bound and expectation for `shape` on `model` with an output limit of `output_tokens`.

    Without a calibration the bound is the rule's and the expectation the old
    heuristic (`heuristic_input`, ceil(chars / 4)); with one, both are the model's own.
    `shape` None means the input tokens were given (`select --input-tokens`):
    `heuristic_input` is then both the bound and the expectation.
    The expected output is the model's `learned` mean, else DEFAULT_OUTPUT_TOKENS, within
    the limit; the bound always takes the whole limit.
    """
    if shape is None:
        bound, expected, source, n = heuristic_input, heuristic_input, "option", 0
    elif fit is None:
        bound, expected, source, n = shape.rule_bound(), heuristic_input, "rule", 0
    else:
        bound = fit.bound(shape)
        expected = min(bound, math.ceil(bound * fit.typical))
        source, n = "calibration", fit.n
    typical_out = expected_output(learned, output_tokens)
    allowance, out_source = output_allowance(fit)
    return RequestCost(
        input_bound=bound,
        output_limit=output_tokens,
        max_cost_usd=cost_usd(model, bound, output_tokens + allowance if output_tokens else 0),
        expected_input=expected,
        expected_output=typical_out,
        expected_cost_usd=cost_usd(model, expected, typical_out),
        source=source,
        samples=n,
        output_allowance=allowance,
        output_source=out_source,
        output_samples=fit.output_n if fit is not None else 0,
        learned_output=learned,
    )


def cost_json(cost: RequestCost | None) -> dict[str, Any]:
    """The expected cost and the bound (`max_cost_usd`) of a request on its model, and
    where they came from (issue 23; see README "Budgets")."""
    if cost is None:
        return {"expected_cost_usd": None, "max_cost_usd": None, "cost_estimate": None}
    learned = cost.learned_output
    return {
        "expected_cost_usd": cost.expected_cost_usd,
        "max_cost_usd": cost.max_cost_usd,
        "cost_estimate": {
            "input_tokens_bound": cost.input_bound,
            "output_tokens_limit": cost.output_limit,
            "output_tokens_bound": cost.output_bound,
            "output_source": cost.output_source,
            "output_samples": cost.output_samples,
            "expected_input_tokens": cost.expected_input,
            "expected_output_tokens": cost.expected_output,
            "expected_output_source": cost.expected_output_source,
            "expected_output_samples": 0 if learned is None else learned.samples,
            "expected_output_task": None if learned is None else learned.task,
            "source": cost.source,
            "samples": cost.samples,
        },
    }
