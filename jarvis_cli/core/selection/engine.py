"""SelectionEngine: pick the model (and fallbacks) for a request by strategy.

The engine gathers its inputs (registry records, provider usability from the key
manager, metrics and cooldowns from the calls table, strategy weights from
config.toml) and hands them to the pure `ranking.rank`. See `scoring` for how
sub-scores, priors and confidence are computed.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING

from jarvis_cli.core.context import Context
from jarvis_cli.core.errors import UsageError
from jarvis_cli.core.providers.capabilities import Capabilities
from jarvis_cli.core.providers.presets import ProviderSpec, all_providers, get_provider
from jarvis_cli.core.registry.catalog_stamp import catalog_registered
from jarvis_cli.core.registry.model_table import load_model_table
from jarvis_cli.core.registry.records import split_model_id
from jarvis_cli.core.selection.bound import InputShape
from jarvis_cli.core.selection.calibration import expected_inputs, load_all
from jarvis_cli.core.selection.cooldown import cooldowns
from jarvis_cli.core.selection.cost import estimate_request_tokens
from jarvis_cli.core.selection.metrics import PerformanceMonitor
from jarvis_cli.core.selection.qualify import exclusion_summary
from jarvis_cli.core.selection.quality import QualityFacts
from jarvis_cli.core.selection.ranking import rank_table
from jarvis_cli.core.selection.scoring import Weights, resolve_weights
from jarvis_cli.core.selection.task import resolve_task
from jarvis_cli.core.selection.types import (
    Exclusion,
    PreferredModelOutcome,
    RankInputs,
    ScoredCandidate,
    SelectionRequest,
    SelectionResult,
)
from jarvis_cli.core.selection.variants import name_facts
from jarvis_cli.core.store.connection import Connection
from jarvis_cli.core.store.snapshots import UNCHANGED, data_version

if TYPE_CHECKING:
    from jarvis_cli.core.selection.learning import LearnedOutcomes

__all__ = [
    "Exclusion",
    "PreferredModelOutcome",
    "ScoredCandidate",
    "SelectionEngine",
    "SelectionRequest",
    "SelectionResult",
    "exclusion_summary",
]

ALL_PROVIDERS_NOTE = (
    "no provider has a key yet: showing what jarvis would choose among every provider's "
    "models (add a key with `jarvis keys add PROVIDER`)"
)


def key_hint(spec: ProviderSpec) -> str:
    """How to give jarvis a key for `spec`."""
    return f"set {' or '.join(spec.key_env_vars())}, or run `jarvis keys add {spec.name}`"


def provider_usability(
    ctx: Context, providers: Mapping[str, ProviderSpec], synced: Collection[str]
) -> tuple[dict[str, bool], dict[str, tuple[str, str]]]:
    """Which providers can be called now, and why not for the others.

    A provider that needs a key is usable when KeyManager.availability would find
    one (env or vault; nothing is decrypted: vault/availability.py). A keyless local
    provider (ollama, vllm, lmstudio) is usable once the user has set it up: a
    `[providers.NAME]` table in config.toml, or models synced from it (`synced`: the
    providers that have some).
    Otherwise the bundled catalog's free local models would win every fresh install
    for a server that is not running.
    """
    from jarvis_cli.core.vault.availability import key_source, vault_providers

    # One statement for every provider's vault key (a team store pays per round trip).
    needs_key = any(s.needs_key for s in providers.values())
    vault = vault_providers(ctx) if needs_key else frozenset()
    usable: dict[str, bool] = {}
    reasons: dict[str, tuple[str, str]] = {}
    for name, spec in providers.items():
        if spec.needs_key:
            usable[name] = key_source(spec, ctx.env, vault) is not None
            reasons[name] = ("no_key", f"no key for {name} ({key_hint(spec)})")
        else:
            usable[name] = name in ctx.config.providers or name in synced
            reasons[name] = (
                "not_set_up",
                f"local provider {name} not set up (run `jarvis models sync {name}` "
                f"or add [providers.{name}] to config.toml)",
            )
    return usable, reasons


def bundled_quality_facts(conn: Connection | None = None) -> QualityFacts:
    """The bundled quality table (core/registry/quality.py) as selection takes it (from
    `conn`'s snapshot of it when given)."""
    from jarvis_cli.core.registry.quality import DEFAULT_QUALITY, bundled_quality, stored_quality

    entries = bundled_quality() if conn is None else stored_quality(conn)
    return QualityFacts(entries, DEFAULT_QUALITY)


def check_request(request: SelectionRequest) -> None:
    """Reject bad values a caller could pass (the CLI also validates its options)."""
    unknown = [c for c in request.capabilities if c not in Capabilities._fields]
    if unknown:
        raise UsageError(
            f"unknown capability {unknown[0]!r}",
            hint=f"known capabilities: {', '.join(Capabilities._fields)}",
        )
    for name, value in (
        ("input tokens", request.input_tokens),
        ("output tokens", request.output_tokens),
        ("max cost", request.max_cost_usd),
        ("max latency", request.max_latency_ms),
    ):
        if value is not None and value < 0:
            raise UsageError(f"{name} must be >= 0, got {value}")
    if request.prefer is not None and not 0 <= request.prefer <= 1:
        raise UsageError(f"prefer must be between 0 and 1, got {request.prefer}")
    if request.min_quality is not None and not 0 <= request.min_quality <= 1:
        raise UsageError(f"min quality must be between 0 and 1, got {request.min_quality}")
    resolve_task(request.task, None)  # UsageError if unknown
    if request.preferred_model:
        split_model_id(request.preferred_model)


class SelectionEngine:
    """Selects models for requests from the registry, keys, metrics and config of `ctx`."""

    def __init__(self, ctx: Context, *, clock: Callable[[], float] = time.time) -> None:
        self.ctx = ctx
        self.clock = clock
        self._learned: dict[str, LearnedOutcomes | None] = {}  # learning.load_learned

    def select(self, request: SelectionRequest) -> SelectionResult:
        """The best qualifying model for `request`; NoSuitableModelError (exit 6) if none."""
        # Selection allocates tens of thousands of floats and lists at 10,000 models
        # and creates no reference cycles; pausing the cyclic GC meanwhile saves the
        # generation scans those allocations would trigger (~2 of ~25 ms measured).
        paused = gc.isenabled()
        gc.disable()
        try:
            return self._select(request)
        finally:
            if paused:
                gc.enable()

    def _outcomes(self, conn: Connection) -> LearnedOutcomes | None:
        """learning.load_learned, that module loaded only when outcomes were recorded."""
        version = data_version(conn, "outcomes")
        if version == UNCHANGED:
            return None
        from jarvis_cli.core.selection.learning import load_learned

        return load_learned(conn, self._learned, version)

    def _select(self, request: SelectionRequest) -> SelectionResult:
        check_request(request)
        config = self.ctx.config
        providers = all_providers(config)
        if request.preferred_provider:
            get_provider(config, request.preferred_provider)  # UsageError if unknown
        strategy = request.strategy or config.defaults.strategy
        weights = resolve_weights(strategy, config.selection.weights)
        if request.prefer is not None:
            strategy = f"prefer {request.prefer:g}"
            weights = Weights(cost=1.0 - request.prefer, quality=request.prefer)
        tokens = estimate_request_tokens(
            request.kind,
            prompt=request.prompt,
            input_tokens=request.input_tokens,
            output_tokens=request.output_tokens,
            max_tokens=config.defaults.max_tokens,
        )
        # ModelRegistry.table(), without loading model_registry.py while the bundled
        # catalog is the one registered (registry/catalog_stamp.py)
        if not catalog_registered(self.ctx.store):
            from jarvis_cli.core.registry.model_registry import ModelRegistry

            ModelRegistry(self.ctx).ensure_catalog()
        table = load_model_table(self.ctx.store.conn)
        usable, unusable_reasons = provider_usability(self.ctx, providers, table.synced_providers)
        notes: list[str] = []
        if not request.include_unusable and not any(
            usable.get(p, False) for p in table.providers()
        ):
            request = request._replace(include_unusable=True)
            notes.append(ALL_PROVIDERS_NOTE)
        now = self.clock()
        conn = self.ctx.store.conn
        inputs = RankInputs(
            strategy=strategy,
            weights=weights,
            tokens=tokens,
            usable_providers=usable,
            unusable_reasons=unusable_reasons,
            cooling_until=cooldowns(conn, config.cooldown, now=now, kind=request.kind),
            quality_overrides=config.quality,
            max_fallbacks=config.defaults.max_fallbacks,
            now=now,
        )
        quality = bundled_quality_facts(conn)
        names = name_facts(conn, table, quality.entries.keys())
        limits = (config.budgets.max_output_tokens, config.defaults.max_tokens)
        inputs = inputs._replace(
            quality=quality,
            names=names,
            learned=self._outcomes(conn),
            output_limit=min(x for x in limits if x is not None),
        )
        if tokens.input_source == "prompt" and request.prompt:
            # Tokenizers differ: a calibrated model is priced at its own typical input
            # tokens (one read of the calibration table, not one per candidate).
            fits = load_all(conn)
            if fits:
                shape = InputShape.of([request.prompt])
                inputs = inputs._replace(expected_inputs=expected_inputs(fits, shape))
        metrics = PerformanceMonitor.for_context(self.ctx).columns(table, now=now)
        result = rank_table(request, table, inputs, metrics)
        return result._replace(notes=(*result.notes, *notes)) if notes else result
