"""`jarvis batch`: many requests from a JSONL file, routed, within budget, resumable.

Each line is run by the same orchestrator `jarvis complete` uses (selection, retry,
fallback, budget reservation, one `calls` row per attempt) on a pool of
`concurrency` worker threads, each with its own store connection (opened only if it
plans or reserves). What the run shares in process:

- **Plans** (`runs/batch_plans.py`). Lines that ask alike (same
  model/strategy/max_tokens, same inferred task, prompts of the same size class)
  reuse one plan, with its models' records, for up to `REPLAN_S` seconds. Any failed
  attempt invalidates every plan at once, so the next lines are planned from the
  store again, where the failure (and any cooldown it triggered) is already
  recorded; measured latencies come in at the next replan.
- **The writer** (`runs/batch_writer.py`): one thread stores every attempt's row
  and writes every output line, a line only after its rows are committed.
- **Concurrency per provider** (`runs/limiter.py`): a 429 halves that provider's
  limit, successes add it back (AIMD).
- **`--max-total-cost`** (`runs/ledger.py`): worst case reserved before each model
  is tried, actual cost settled after. `[budgets]` are reserved in the store as for
  every request. The first budget refusal ends the sending: the lines not yet sent
  are written as `budget_exceeded` and the exit code is 7.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jarvis_cli.core.errors import (
    BudgetExceededError,
    ExitCode,
    JarvisError,
    ProviderError,
)
from jarvis_cli.core.providers.sdk_client import load_sdk
from jarvis_cli.core.runs.batch_attach import line_messages
from jarvis_cli.core.runs.batch_io import (
    BadLine,
    BatchLine,
    OutputWriter,
    answer_record,
    read_lines,
)
from jarvis_cli.core.runs.batch_plans import Plan, Plans, plan_key
from jarvis_cli.core.runs.batch_writer import BatchWriter
from jarvis_cli.core.runs.ledger import RunLedger
from jarvis_cli.core.runs.limiter import ProviderLimiter
from jarvis_cli.core.runs.requests import CompletionRequest

if TYPE_CHECKING:
    from jarvis_cli.core.context import Context
    from jarvis_cli.core.runs.orchestrator import Orchestrator

MAX_CONCURRENCY = 256

MEANINGS = {
    ExitCode.USAGE: "bad input line",
    ExitCode.AUTH: "no key, or the provider rejected it",
    ExitCode.NO_MODEL: "no suitable model",
    ExitCode.BUDGET: "budget exceeded",
    ExitCode.PROVIDER: "provider failure after all retries and fallbacks",
    ExitCode.REJECTED: "request rejected by the provider as invalid",
    ExitCode.INTERRUPTED: "interrupted",
}


@dataclass(frozen=True)
class BatchOptions:
    """Run-wide options; a line's own model/strategy/max_tokens/temperature win."""

    concurrency: int = 8
    max_total_cost_usd: float | None = None
    ordered: bool = False
    retries: int | None = None
    strategy: str | None = None
    model: str | None = None
    fallbacks: tuple[str, ...] = ()
    max_tokens: int | None = None
    temperature: float | None = None
    timeout_s: float | None = None
    schema: Mapping[str, Any] | None = None  # --schema for lines that give none


@dataclass
class BatchSummary:
    """What a run did; `exit_code` follows the table in the README."""

    concurrency: int = 0
    lines: int = 0
    answered: int = 0
    failed: int = 0
    bad: int = 0
    skipped: int = 0  # answered in an earlier run (resume)
    budget_exceeded: int = 0
    interrupted: bool = False
    attempts: int = 0
    cost_usd: float = 0.0
    unpriced: int = 0  # answers of models with unknown prices (not in cost_usd)
    store_cap: int | None = None  # workers capped to the PostgreSQL store's free connections
    started: float = field(default_factory=time.time)
    finished: float | None = None
    limits: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def done(self) -> int:
        return self.answered + self.failed + self.bad + self.budget_exceeded

    @property
    def exit_code(self) -> ExitCode:
        if self.interrupted:
            return ExitCode.INTERRUPTED
        if self.budget_exceeded:
            return ExitCode.BUDGET
        if self.failed or self.bad:
            return ExitCode.PARTIAL
        return ExitCode.OK

    def as_json(self) -> dict[str, Any]:
        elapsed = (self.finished or time.time()) - self.started
        return {
            "lines": self.lines,
            "answered": self.answered,
            "failed": self.failed,
            "bad_lines": self.bad,
            "skipped": self.skipped,
            "budget_exceeded": self.budget_exceeded,
            "attempts": self.attempts,
            "cost_usd": round(self.cost_usd, 8),
            "unpriced_answers": self.unpriced,
            "store_connection_cap": self.store_cap,
            "elapsed_s": round(elapsed, 3),
            "providers": self.limits,
            "exit_code": int(self.exit_code),
        }


def error_record(
    line_id: str | None, number: int, exc: JarvisError, attempts: int
) -> dict[str, Any]:
    """An output line for a line that was not answered."""
    if isinstance(exc, ProviderError):
        cls = exc.error_class
    elif isinstance(exc, BudgetExceededError):
        cls = "budget_exceeded"
    else:
        cls = type(exc).__name__.removesuffix("Error").lower() or "error"
    code = ExitCode(exc.exit_code)
    return {
        "id": line_id,
        "line": number,
        "ok": False,
        "error": {
            "class": cls,
            "message": exc.message,
            "exit_code": int(code),
            "meaning": MEANINGS.get(code, code.name.lower()),
        },
        "attempts": attempts,
    }


class BatchRunner:
    """Runs the lines of one input file; see the module docstring."""

    def __init__(
        self,
        ctx: Context,
        options: BatchOptions,
        *,
        on_event: Callable[[str], None] | None = None,
        on_line: Callable[[BatchSummary], None] | None = None,
    ) -> None:
        self.ctx = ctx
        self.options = options
        self.limiter = ProviderLimiter(options.concurrency)
        self.ledger = (
            RunLedger(options.max_total_cost_usd)
            if options.max_total_cost_usd is not None
            else None
        )
        self.summary = BatchSummary(concurrency=options.concurrency)
        self._on_event = on_event or (lambda _msg: None)
        self.on_line = on_line or (lambda _summary: None)  # progress, after each line
        self._plans = Plans()
        self._local = threading.local()
        self._lock = threading.Lock()
        self._stop = threading.Event()  # a budget was reached: send no more
        self._interrupted = threading.Event()  # Ctrl-C: start no more lines
        self._contexts: list[Context] = []
        self._out: BatchWriter | None = None  # while `run` runs
        self._failure: BaseException | None = None  # a worker's unexpected exception
        self._working = 0  # workers not yet finished
        self._all_done = threading.Event()

    # --- workers ------------------------------------------------------------------

    def _new_context(self) -> Context:
        """A Context with a store connection of its own (opened on first use)."""
        from jarvis_cli.core.context import Context

        ctx = Context(paths=self.ctx.paths, env=self.ctx.env)
        ctx.__dict__["config"] = self.ctx.config  # loaded once, shared read-only
        return ctx

    def _orchestrator(self) -> Orchestrator:
        """This thread's orchestrator, with its own Context (its store opened on first use)."""
        found: Orchestrator | None = getattr(self._local, "orchestrator", None)
        if found is None:
            from jarvis_cli.core.runs.orchestrator import Orchestrator

            ctx = self._new_context()
            with self._lock:
                self._contexts.append(ctx)
            found = Orchestrator(
                ctx,
                on_event=self._on_event,
                limiter=self.limiter,
                ledger=self.ledger,
                recorder=self._writer.record,
            )
            self._local.orchestrator = found
        return found

    @property
    def _writer(self) -> BatchWriter:
        """Where attempts are stored and lines written (runs/batch_writer.py)."""
        if self._out is None:  # pragma: no cover - workers run only inside `run`
            raise RuntimeError("the batch is not running")
        return self._out

    def _request(self, line: BatchLine) -> CompletionRequest:
        o = self.options
        return CompletionRequest(
            messages=line_messages(line.messages, line.attachments),
            attachments=line.attachments,
            model=line.model or o.model,
            fallbacks=o.fallbacks if not line.model else (),
            strategy=line.strategy or o.strategy,
            max_tokens=line.max_tokens or o.max_tokens,
            temperature=line.temperature if line.temperature is not None else o.temperature,
            retries=o.retries,
            timeout_s=o.timeout_s,
            schema=line.schema if line.schema is not None else o.schema,
            tools=line.tools,
            tool_choice=line.tool_choice,
        )

    def _run_line(self, seq: int, line: BatchLine) -> None:
        if self._interrupted.is_set():
            return  # Ctrl-C: not sent, not written; a rerun with the same OUT sends it
        if self._stop.is_set():
            self._write_budget_exceeded(seq, line)
            return
        orchestrator = self._orchestrator()
        req = self._request(line)
        before = self._recorded_attempts(orchestrator)
        try:
            chain, records = self._plans.get(plan_key(req), lambda: self._plan(orchestrator, req))
            outcome = orchestrator.complete(req, chain=chain, records=records)
        except BudgetExceededError as exc:
            self._stop.set()
            self._finish(seq, line, error_record(line.id, line.number, exc, 0), "budget")
            return
        except JarvisError as exc:
            self._plans.invalidate()
            attempts = self._recorded_attempts(orchestrator) - before
            self._finish(seq, line, error_record(line.id, line.number, exc, attempts), "failed")
            return
        if len(outcome.attempts) > 1:
            self._plans.invalidate()  # an attempt failed on the way: replan from the store
        with self._lock:
            self.summary.cost_usd += outcome.cost_usd or 0.0
            self.summary.unpriced += outcome.cost_usd is None
        record = answer_record(line, outcome, schema=req.schema is not None)
        self._finish(seq, line, record, "answered")

    @staticmethod
    def _plan(orchestrator: Orchestrator, req: CompletionRequest) -> Plan:
        chain = orchestrator.plan(req)
        return chain, orchestrator.records(chain)

    @staticmethod
    def _recorded_attempts(orchestrator: Orchestrator) -> int:
        return orchestrator.attempts_recorded  # one line at a time per thread

    def _write_budget_exceeded(self, seq: int, line: BatchLine) -> None:
        exc = BudgetExceededError("not sent: the budget was reached by earlier lines")
        self._finish(seq, line, error_record(line.id, line.number, exc, 0), "budget")

    def _finish(self, seq: int, line: BatchLine, record: Mapping[str, Any], how: str) -> None:
        self._writer.write(seq, record)
        with self._lock:
            s = self.summary
            s.attempts += int(record.get("attempts") or 0)
            if how == "answered":
                s.answered += 1
            elif how == "budget":
                s.budget_exceeded += 1
            else:
                s.failed += 1
        self.on_line(self.summary)

    # --- the run ------------------------------------------------------------------

    def run(self, in_path: Path, writer: OutputWriter, answered: set[str]) -> BatchSummary:
        """Run every line of `in_path` not in `answered`, writing results to `writer`;
        the workers take the lines themselves, one at a time from one reader."""
        self._cap_for_store()
        self._out = BatchWriter(self._new_context(), writer)
        # Start-up's objects (~83,000, the SDK's too: the first call would load it
        # anyway) live until exit; frozen, full collections (~40 ms each) skip them.
        load_sdk()
        gc.freeze()
        lines = self._lines(in_path, writer, answered)
        taking = threading.Lock()
        workers = [
            threading.Thread(target=self._work, args=(lines, taking), name=f"jarvis-batch_{i}")
            for i in range(self.options.concurrency)
        ]
        self._working = len(workers)
        started: list[threading.Thread] = []
        try:
            for worker in workers:
                worker.start()
                started.append(worker)
            self._all_done.wait()  # not join(): a Ctrl-C in it can mark a worker stopped
        except KeyboardInterrupt:
            self._interrupted.set()
            self.summary.interrupted = True
            raise
        finally:
            self._interrupted.set()  # workers not yet started take no line
            for worker in started:
                worker.join()  # its line in flight finishes and is written
            self.summary.finished = time.time()
            self.summary.limits = self.limiter.report()
            self._out.close()
            for ctx in self._contexts:
                ctx.close()
        if self._failure is not None:
            raise self._failure
        return self.summary

    def _cap_for_store(self) -> None:
        """On PostgreSQL, no more workers (each with a connection) than the server takes."""
        from jarvis_cli.core.runs.batch_pg import worker_cap

        cap = worker_cap(self.ctx.store.conn, self.options.concurrency)
        if cap is not None:
            self.summary.store_cap = cap
            self.options = replace(self.options, concurrency=cap)

    def _lines(
        self, in_path: Path, writer: OutputWriter, answered: set[str]
    ) -> Iterator[tuple[int, BatchLine]]:
        """The lines to send, with their sequence numbers; bad lines are written and
        lines answered earlier skipped on the way."""
        for seq, item in enumerate(read_lines(in_path)):
            self.summary.lines += 1
            if isinstance(item, BadLine):
                self._bad_line(seq, item)
            elif item.id in answered:
                self.summary.skipped += 1
                writer.skip(seq)
            else:
                writer.wait_room(seq, self.options.concurrency * 8)  # bounds --ordered's buffer
                yield seq, item

    def _work(self, lines: Iterator[tuple[int, BatchLine]], taking: threading.Lock) -> None:
        """A worker: take the next line, run it, until none is left or the run stops."""
        try:
            while not self._interrupted.is_set():
                with taking:
                    item = next(lines, None)
                if item is None:
                    return
                self._run_line(*item)
        except BaseException as exc:  # the run stops and `run` raises it
            with self._lock:
                self._failure = self._failure or exc
            self._interrupted.set()
        finally:
            with self._lock:
                self._working -= 1
                if self._working == 0:
                    self._all_done.set()

    def _bad_line(self, seq: int, bad: BadLine) -> None:
        from jarvis_cli.core.errors import UsageError

        self._writer.write(seq, error_record(bad.id, bad.number, UsageError(bad.message), 0))
        with self._lock:
            self.summary.bad += 1
        self.on_line(self.summary)
