"""The value types of selection: a request, its candidates and its result.

They sit at the bottom of `selection/` so that qualification, scoring, ranking and
reasoning can all name them without importing one another.
"""

# No `from __future__ import annotations` here: typing.NamedTuple compiles every
# string annotation (a ForwardRef per field), ~40 % of these classes' import cost.

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple

from jarvis_cli.core.providers.capabilities import RequestKind
from jarvis_cli.core.registry.records import ModelRecord
from jarvis_cli.core.selection import scoring
from jarvis_cli.core.selection.cost import ExpectedOutput, TokenEstimate
from jarvis_cli.core.selection.learned_view import Learned
from jarvis_cli.core.selection.metrics import ModelMetrics
from jarvis_cli.core.selection.quality import QualityFacts
from jarvis_cli.core.selection.task import Task
from jarvis_cli.core.selection.variants import NameFacts

if TYPE_CHECKING:  # learning.py loads only for a store with outcomes (engine.py)
    from jarvis_cli.core.selection.learning import LearnedOutcomes


class Exclusion(NamedTuple):
    model_id: str
    code: str  # stable category: provider, type, capability, unavailable, no_key, ...
    reason: str  # one human sentence fragment


class SelectionRequest(NamedTuple):
    """What to select a model for (seed §6.1); every field acts."""

    kind: RequestKind = "chat"
    prompt: str | None = None  # estimates input tokens and infers the task
    input_tokens: int | None = None  # beats the estimate from `prompt`
    # expected, as given; None: each model's mean from outcomes, else 500 (0 for embeddings)
    output_tokens: int | None = None
    capabilities: tuple[str, ...] = ()
    preferred_model: str | None = None
    preferred_provider: str | None = None
    strategy: str | None = None  # None = config defaults.strategy
    max_cost_usd: float | None = None  # budget_constraint
    max_latency_ms: float | None = None  # timeout_constraint, vs expected (p50) latency
    include_unusable: bool = False  # --all: models of providers without a key too
    task: str | None = None  # --task; None = inferred from the prompt
    min_quality: float | None = None  # --min-quality: exclude models scored below
    all_versions: bool = False  # --all-versions: dated snapshots and aliases as candidates
    prefer: float | None = None  # --prefer 0..1: cheapest .. most accurate (tradeoff.prefer_totals)


class ScoredCandidate(NamedTuple):
    """One qualifying model with its figures and scores (immutable; a NamedTuple because
    selection builds one per candidate, 10,000 in the benchmark)."""

    model: ModelRecord
    usable: bool
    metrics: ModelMetrics
    estimated_cost_usd: float | None
    expected_latency_ms: float  # measured p50, or the prior
    latency_measured: bool
    smoothed_success_rate: float
    quality: float  # absolute 0..1 for the request's task (the default when unscored)
    scores: scoring.SubScores
    total: float
    tiebreak: float  # the balanced total, used when totals tie
    notes: tuple[str, ...] = ()
    quality_source: str = "none"  # user | config | livebench DATE | aider polyglot | ...
    quality_model: str | None = None  # the catalog model a bundled score belongs to
    versions: int = 1  # versions of this model grouped into its row (see variants.py)
    type_assumed: bool = False  # type unknown, assumed chat from its name
    quality_margin: float = 0.0  # ranked on quality - margin (selection/quality.py)
    learned: Learned | None = None  # what outcomes say, next to the prior (learning.py)

    @property
    def quality_known(self) -> bool:
        return self.quality_source != "none"


class PreferredModelOutcome(NamedTuple):
    model_id: str
    used: bool
    reason: str | None  # why it was not used


class SelectionResult(NamedTuple):
    model_id: str
    provider: str
    model_name: str
    usable: bool
    fallbacks: tuple[str, ...]
    estimated_cost_usd: float | None
    estimated_latency_ms: float | None  # None when the chosen model is unmeasured
    confidence: float
    reasoning: str
    strategy: str
    weights: scoring.Weights
    tokens: TokenEstimate
    candidates: Sequence[ScoredCandidate]  # best first; [0] is the chosen one (built lazily)
    excluded: tuple[Exclusion, ...]
    preferred_model: PreferredModelOutcome | None = None
    notes: tuple[str, ...] = ()
    task: Task = Task("general", "no prompt")
    # model id -> expected output tokens learned from outcomes for the task, uncapped
    # (selection/learned_output.py); the models not in it expect the default
    learned_outputs: Mapping[str, ExpectedOutput] = {}

    @property
    def chosen(self) -> ScoredCandidate:
        return self.candidates[0]


class RankInputs(NamedTuple):
    """Everything `rank` needs besides the request, the models and their metrics."""

    strategy: str
    weights: scoring.Weights
    tokens: TokenEstimate
    usable_providers: Mapping[str, bool]  # provider -> can be called now
    # provider -> (code, reason) for the unusable ones, e.g. ("no_key", "no key for x (...)")
    unusable_reasons: Mapping[str, tuple[str, str]] = {}
    cooling_until: Mapping[str, float] = {}
    quality_overrides: Mapping[str, float] = {}  # [quality] of config.toml
    max_fallbacks: int = 2
    now: float = 0.0
    quality: QualityFacts = QualityFacts()  # the bundled quality table
    names: NameFacts | None = None  # of the table ranked; None = computed by rank_table
    # model id -> typical input tokens from its calibration (selection/calibration.py)
    expected_inputs: Mapping[str, int] = {}
    learned: "LearnedOutcomes | None" = None  # the store's outcomes; None = none recorded
    # caps a learned expected output ([budgets] max_output_tokens, [defaults] max_tokens)
    output_limit: int | None = None
