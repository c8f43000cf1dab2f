"""Runs requests on the orchestrator: one worker thread per request in flight.

The orchestrator is synchronous (retries, fallbacks, budget reservations, attempts
recording are all there and are not repeated here). Each worker thread has its own
Orchestrator and Context - its own store connection - as `batch` does; the config is
read once and shared. What models the server offers is read from the registry and the
providers' keys, and refreshed every MODELS_TTL_S seconds.

Plans and the model list are made by one planner (its own Orchestrator and store
connection, one at a time), not by whichever worker thread asked: selection prepares
the store's largest statements and reads the most pages, and made on every worker in
turn it filled 64 statement and page caches per process, a slow rise in RSS over a
100,000-request soak that looked like a leak. Planning is CPU work under the GIL,
so running one plan at a time costs no throughput.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from jarvis_cli.serve.wire import ROUTED_PREFIX, Route, unknown_model

if TYPE_CHECKING:
    from jarvis_cli.core.context import Context
    from jarvis_cli.core.runs.attempts import Attempt
    from jarvis_cli.core.runs.batch_plans import Plan
    from jarvis_cli.core.runs.budget import Reservation
    from jarvis_cli.core.runs.orchestrator import Orchestrator
    from jarvis_cli.core.runs.requests import CompletionRequest

MODELS_TTL_S = 30.0
DEFAULT_THREADS = 64
SQLITE_CACHE_KIB = 128  # per worker connection (SQLite's default is 2 MiB)
T = TypeVar("T")


class ModelList:
    """Usable concrete model ids (provider has a key or needs none) and strategy names."""

    def __init__(self, models: Mapping[str, str], strategies: Sequence[str]) -> None:
        self.models = models  # id -> type (chat, completion, embedding or "")
        self.strategies = ["auto", *strategies]
        self.routed = [ROUTED_PREFIX + s for s in self.strategies]

    def route(self, name: Any, *, providers: set[str]) -> Route:
        """A concrete id, or a routed name; 404 for anything else."""
        if not isinstance(name, str) or not name:
            from jarvis_cli.serve.errors import bad_request

            raise bad_request("'model' is required", param="model")
        if name in self.models:
            return Route(name, None)
        if name.startswith(ROUTED_PREFIX):
            strategy = name[len(ROUTED_PREFIX) :]
            if strategy in self.strategies:
                return Route(None, None if strategy == "auto" else strategy)
        provider, _, rest = name.partition("/")
        if rest and provider in providers:  # a model the registry does not list yet
            return Route(name, None)
        raise unknown_model(name)


class Gateway:
    """The orchestrator behind the server: a thread pool and what it can serve."""

    def __init__(self, ctx: Context, *, threads: int | None = None) -> None:
        self.ctx = ctx
        # Requests in flight per process; more wait for a thread. Each thread holds an
        # orchestrator and a store connection, so this also bounds memory.
        threads = threads or int(ctx.env.get("JARVIS_SERVE_THREADS") or DEFAULT_THREADS)
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="jarvis-serve")
        self._local = threading.local()
        self._lock = threading.Lock()
        self._contexts: list[Context] = []
        self._models: ModelList | None = None
        self._providers: set[str] = set()
        self._models_at = 0.0
        self._planner: Orchestrator | None = None
        self._planner_lock = threading.Lock()
        from jarvis_cli.core.runs.batch_plans import Plans

        self.plans = Plans()

    def _new_context(self) -> Context:
        from jarvis_cli.core.context import Context

        ctx = Context(paths=self.ctx.paths, env=self.ctx.env)
        ctx.__dict__["config"] = self.ctx.config  # loaded once, shared read-only
        with self._lock:
            self._contexts.append(ctx)
        return ctx

    def _tuned_context(self) -> Context:
        from jarvis_cli.core.store.connection import is_postgres

        ctx = self._new_context()
        if not is_postgres(ctx.store.conn):
            ctx.store.conn.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        return ctx

    def orchestrator(self) -> Orchestrator:
        """This thread's orchestrator (its own Context and store connection)."""
        found: Orchestrator | None = getattr(self._local, "orchestrator", None)
        if found is None:
            from jarvis_cli.core.runs.attempts import record_attempt
            from jarvis_cli.core.runs.orchestrator import Orchestrator

            ctx = self._tuned_context()
            local = self._local

            def recorder(request_id: str, attempt: Attempt, held: Reservation | None) -> None:
                record_attempt(ctx.store, request_id, attempt, settle=held)
                local.spent += attempt.cost_usd or 0.0
                local.attempts += 1

            found = Orchestrator(ctx, recorder=recorder)
            self._local.orchestrator = found
            self.reset_spend()
        return found

    def planner(self) -> Orchestrator:
        """The orchestrator that plans (hold `_planner_lock`); it runs no request."""
        if self._planner is None:
            from jarvis_cli.core.runs.orchestrator import Orchestrator

            self._planner = Orchestrator(self._tuned_context())
        return self._planner

    def reset_spend(self) -> None:
        """Start counting this thread's attempts and their cost (one request)."""
        self._local.spent = 0.0
        self._local.attempts = 0

    def spent(self) -> float:
        return float(self._local.spent)

    def attempts(self) -> int:
        return int(self._local.attempts)

    def thread_context(self) -> Context:
        return self.orchestrator().ctx

    def models(self) -> ModelList:
        """What /v1/models lists (refreshed every MODELS_TTL_S); call in a worker thread."""
        now = time.monotonic()
        if self._models is not None and now - self._models_at < MODELS_TTL_S:
            return self._models
        from jarvis_cli.core.selection.scoring import strategy_names

        with self._planner_lock:
            orch = self.planner()
            specs = orch.providers.specs()
            usable = {name for name, spec in specs.items() if orch.providers.usable(spec)}
            listed = orch.registry.list_models()
        models = {r.id: r.type or "" for r in listed if r.provider in usable}
        strategies = strategy_names(self.ctx.config.selection.weights)
        self._models, self._providers, self._models_at = ModelList(models, strategies), usable, now
        return self._models

    def route(self, name: Any) -> Route:
        return self.models().route(name, providers=self._providers)

    def plan(self, req: CompletionRequest) -> Plan:
        """The models to try and their records: shared by requests that ask alike for
        REPLAN_S seconds, made again after any failed attempt (as `batch` does)."""
        from jarvis_cli.core.runs.batch_plans import plan_key

        def make() -> Plan:
            with self._planner_lock:
                orch = self.planner()
                chain = orch.plan(req)
                return chain, orch.records(chain)

        key = (*plan_key(req), req.kind, req.capabilities, req.task, req.max_cost_usd)
        return self.plans.get(key, make)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=False)
        with self._lock:
            for ctx in self._contexts:
                ctx.close()
