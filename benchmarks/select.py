"""Selection speed: in-process over 1,000 and 10,000 models with 100,000 call rows, and
whole-process `jarvis select --json` against a minimal Typer app.

Usage: python benchmarks/select.py [--runs N] [--calls N] [--outcomes N] [--only PART]

`--only in-process` or `--only whole-process` runs one part (the machine is shared:
a start-up change needs only the second, which takes a fraction of the time).

In-process (targets <= 50 ms at 10,000 models): `SelectionEngine.select` end to end
(registry read, key availability, metrics, cooldowns, ranking), measured
- cold: the first selection on the store, which builds the model_stats cache from
  every call row and stores the model table and metric columns (core/registry/model_table.py);
- warm: nothing changed since the last selection (the common case); a new process
  costs the same, as both snapshots are read from the store; the store also holds
  100,000 outcomes (issue 25; 5,000 distinct prompts), read from their snapshot,
  each with the output tokens of its answer, so nearly every model is priced at its
  own expected output (learned_output.py);
- warm + prompt: the same with a prompt, so similar past prompts are looked up;
- after 5 new calls: model_stats refreshes the 5 models concerned and the metric
  columns are rebuilt from it;
and the pure ranking alone (`ranking.rank_table` on an in-memory table and metrics).

Whole process (target <= 1.3x the floor): from >= 10 interleaved runs on a fresh
home, offline, with the bundled catalog: a Typer app with one command that does
nothing (`python floor.py`), `python -m jarvis_cli select --json PROMPT` and the `jarvis`
entry point.
"""

from __future__ import annotations

import os
import sys

# This file is named like the stdlib `select` module that subprocess imports: move
# its directory behind the stdlib on sys.path (it still provides `_timing`).
_HERE = os.path.dirname(os.path.realpath(__file__))
sys.path[:] = [p for p in sys.path if os.path.realpath(p or ".") != _HERE] + [_HERE]

import argparse  # noqa: E402
import random  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from _timing import (  # noqa: E402
    FLOOR_APP,
    TEST_MASTER_KEY,
    bench_env,
    insert_synthetic_calls,
    interleaved,
    jarvis_command,
    median_ms,
    print_ratio,
    report,
)

# Every selection reads a prompt, so task inference (issue 24) is measured too: the
# README's job with a pasted document of ~1,200 characters (no code fence, so the
# task model, not a certain rule, decides).
PROMPT = (
    "Summarize the attached design document in five bullet points:\n\n"
    + (
        "The ingestion service reads events from the queue, validates them against the "
        "schema registry and writes them to the warehouse in hourly partitions. Late "
        "events are merged by a nightly job; duplicates are dropped by event id. "
    )
    * 5
)
IN_PROCESS_TARGET_MS = 50.0
WHOLE_PROCESS_TARGET = 1.3
PROVIDERS = [f"bench{i}" for i in range(10)]


# The same options as `jarvis select`, doing nothing: what Typer 0.29 itself costs for
# this command line (it builds a pydantic TypeAdapter per option, and pydantic's plugin
# loader imports importlib.metadata; the zero-option floor above pays neither).
SAME_OPTIONS_APP = '''from typing import Annotated

import typer

app = typer.Typer()


@app.command()
def main(
    prompt: Annotated[str | None, typer.Argument()] = None,
    kind: Annotated[str, typer.Option("--type")] = "chat",
    strategy: Annotated[str | None, typer.Option()] = None,
    capability: Annotated[list[str] | None, typer.Option()] = None,
    provider: Annotated[str | None, typer.Option()] = None,
    model: Annotated[str | None, typer.Option()] = None,
    all_: Annotated[bool, typer.Option("--all")] = False,
    input_tokens: Annotated[int | None, typer.Option()] = None,
    output_tokens: Annotated[int | None, typer.Option()] = None,
    max_cost: Annotated[float | None, typer.Option()] = None,
    max_latency: Annotated[float | None, typer.Option()] = None,
    prefer: Annotated[float | None, typer.Option()] = None,
    explain: Annotated[bool, typer.Option()] = False,
    no_stdin: Annotated[bool, typer.Option()] = False,
    json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Do nothing."""


if __name__ == "__main__":
    app()
'''


WORDS = [f"w{i}" for i in range(3_000)]


def _insert_outcomes(conn: object, ids: list[str], n: int, rng: random.Random) -> None:
    """`n` imported outcomes over `ids` (issue 25): 5,000 distinct prompts of 30 words
    kept with their terms (content log on), as `jarvis outcomes import` stores them,
    each with its answer's output tokens (~10 per model: most models learn theirs)."""
    from jarvis_cli.core.selection.prompt_terms import encode_terms, prompt_terms

    prompts = [" ".join(rng.choices(WORDS, k=30)) for _ in range(5_000)]
    terms = [encode_terms(prompt_terms(p)) for p in prompts]
    now = time.time()
    rows = []
    for i in range(n):
        k = rng.randrange(len(prompts))
        rows.append(
            (
                now - i,
                rng.choice(ids),
                rng.choice(["general", "coding", "mathematics"]),
                float(rng.random() < 0.7),
                prompts[k],
                terms[k],
                rng.randrange(20, 2000),
            )
        )
    conn.executemany(  # type: ignore[attr-defined]
        "INSERT INTO outcomes(at, model_id, task, score, weight, source, prompt, terms,"
        " output_tokens) VALUES (?, ?, ?, ?, 1.0, 'import', ?, ?, ?)",
        rows,
    )


def _populate(
    home: Path, n_models: int, n_calls: int, rng: random.Random, n_outcomes: int = 0
) -> dict[str, str]:
    """A store with `n_models` priced chat models over 10 keyed providers, `n_calls`
    call rows in the selection window and `n_outcomes` outcomes; returns the
    environment to select with."""
    from jarvis_cli.core.context import Context
    from jarvis_cli.core.registry.model_registry import ModelRegistry

    home.mkdir(mode=0o700, parents=True)
    config = "".join(
        f'[providers.{p}]\nbase_url = "http://127.0.0.1:9/v1"\napi_key_env = "BENCH_{i}_KEY"\n'
        for i, p in enumerate(PROVIDERS)
    )
    (home / "config.toml").write_text(config)
    (home / "config.toml").chmod(0o600)
    env = {"JARVIS_HOME": str(home), "JARVIS_MASTER_KEY": TEST_MASTER_KEY}
    env.update({f"BENCH_{i}_KEY": "bench-not-a-real-key" for i in range(len(PROVIDERS))})
    ctx = Context(env=env)
    ModelRegistry(ctx).ensure_catalog()
    ids = [f"{PROVIDERS[i % len(PROVIDERS)]}/model-{i:05d}" for i in range(n_models)]
    with ctx.store.write() as conn:
        conn.executemany(
            "INSERT INTO models(id, provider, name, type, cap_chat, cap_completion, "
            "cap_embeddings, context_length, input_cost_per_mtok, output_cost_per_mtok, "
            "status, source) VALUES (?, ?, ?, 'chat', 1, 0, 0, ?, ?, ?, 'active', 'user')",
            [
                (
                    mid,
                    mid.split("/")[0],
                    mid.split("/")[1],
                    rng.choice([8192, 32768, 128000]),
                    p := round(10 ** rng.uniform(-2, 1.5), 4),
                    round(p * rng.uniform(1, 5), 4),
                )
                for mid in ids
            ],
        )
        insert_synthetic_calls(conn, ids, n_calls, rng)
        _insert_outcomes(conn, ids, n_outcomes, rng)
    ctx.close()
    return env


def in_process(
    n_models: int, n_calls: int, runs: int, tmp: Path, n_outcomes: int = 0
) -> dict[str, float]:
    from jarvis_cli.core.context import Context
    from jarvis_cli.core.registry.model_registry import ModelRegistry
    from jarvis_cli.core.selection.engine import SelectionEngine, bundled_quality_facts
    from jarvis_cli.core.selection.metrics import PerformanceMonitor
    from jarvis_cli.core.selection.ranking import rank_table
    from jarvis_cli.core.selection.types import RankInputs, SelectionRequest
    from jarvis_cli.core.selection.variants import name_facts

    rng = random.Random(n_models)
    env = _populate(tmp / f"home-{n_models}", n_models, n_calls, rng, n_outcomes)
    ctx = Context(env=env)
    engine = SelectionEngine(ctx)
    request = SelectionRequest(strategy="balanced", prompt=PROMPT)
    start = time.perf_counter()
    result = engine.select(request)
    cold = (time.perf_counter() - start) * 1000
    warm = median_ms(lambda: engine.select(request), runs)
    # with a prompt, outcomes' similar prompts are looked up too (issue 25)
    prompted = request._replace(prompt=" ".join(rng.choices(WORDS, k=30)))
    engine.select(prompted)
    warm_prompt = median_ms(lambda: engine.select(prompted), runs)

    def add_calls_then_select() -> None:
        with ctx.store.write() as conn:
            for c in result.candidates[:5]:
                conn.execute(
                    "INSERT INTO calls(request_id, at, model_id, provider, kind, attempt, ok, "
                    "latency_ms) VALUES ('bench', ?, ?, ?, 'chat', 1, 1, 900)",
                    (time.time(), c.model.id, c.model.provider),
                )
        engine.select(request)

    incremental = median_ms(add_calls_then_select, runs)
    table = ModelRegistry(ctx).table()
    metrics = PerformanceMonitor.for_context(ctx).columns(table)
    # As the engine passes them: the bundled quality table and the stored name facts.
    quality = bundled_quality_facts()
    inputs = RankInputs(
        strategy="balanced",
        weights=result.weights,
        tokens=result.tokens,
        usable_providers=dict.fromkeys(table.providers(), True),
        now=time.time(),
        quality=quality,
        names=name_facts(ctx.store.conn, table, quality.entries.keys()),
    )
    pure = median_ms(lambda: rank_table(request, table, inputs, metrics), runs)
    ctx.close()
    return {
        "models": float(len(table)),
        "candidates": float(len(result.candidates)),
        "cold": cold,
        "warm": warm,
        "warm_prompt": warm_prompt,
        "incremental": incremental,
        "pure": pure,
    }


def whole_process(runs: int, tmp: Path) -> float:
    floor = tmp / "floor.py"
    floor.write_text(FLOOR_APP)
    same = tmp / "same_options.py"
    same.write_text(SAME_OPTIONS_APP)
    home = tmp / "fresh-home"
    env = bench_env(home)
    env["JARVIS_MASTER_KEY"] = TEST_MASTER_KEY
    jarvis = jarvis_command()
    commands = {
        "python floor.py": [sys.executable, str(floor)],
        "python same_options.py --json": [sys.executable, str(same), "--json", PROMPT],
        "python -m jarvis_cli select --json": [
            sys.executable,
            "-m",
            "jarvis_cli",
            "select",
            "--json",
            PROMPT,
        ],
    }
    if jarvis[0] != sys.executable:
        commands["jarvis select --json"] = [*jarvis, "select", "--json", PROMPT]
    samples = interleaved(commands, runs, env)
    print(f"{runs} interleaved runs each, fresh home, bundled catalog, offline\n")
    medians = report(samples, "python floor.py")
    ratio = print_ratio(
        medians,
        "python -m jarvis_cli select --json",
        "python floor.py",
        WHOLE_PROCESS_TARGET,
        "select --json / floor",
    )
    own = medians["python -m jarvis_cli select --json"] / medians["python same_options.py --json"]
    print(f"select --json / Typer app with the same options = {own:.2f} (jarvis's own share)")
    return ratio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", "--runs", type=int, default=11, dest="runs")
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--outcomes", type=int, default=100_000)
    parser.add_argument("--only", choices=("in-process", "whole-process"))
    args = parser.parse_args()
    runs = max(10, args.runs)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if args.only != "whole-process":
            in_process_part(args, runs, tmp)
        if args.only != "in-process":
            whole_process(runs, tmp)
    return 0


def in_process_part(args: argparse.Namespace, runs: int, tmp: Path) -> None:
    print(
        f"In-process SelectionEngine.select, {args.calls:,} call rows, "
        f"{args.outcomes:,} outcomes (median ms)\n"
    )
    print(
        f"{'models':>7} {'cands':>6} {'cold':>8} {'warm':>7} {'+prompt':>8} {'+5 calls':>9} "
        f"{'pure rank':>10}"
    )
    for n in (1_000, 10_000):
        r = in_process(n, args.calls, runs, tmp, args.outcomes)
        print(
            f"{int(r['models']):>7} {int(r['candidates']):>6} {r['cold']:8.1f} "
            f"{r['warm']:7.1f} {r['warm_prompt']:8.1f} {r['incremental']:9.1f} "
            f"{r['pure']:10.1f}"
        )
        if n == 10_000:
            worst = max(r["warm"], r["warm_prompt"])
            verdict = "OK" if worst <= IN_PROCESS_TARGET_MS else "OVER TARGET"
            print(f"\nwarm at 10,000 models: target <= {IN_PROCESS_TARGET_MS:.0f} ms: {verdict}\n")


if __name__ == "__main__":
    raise SystemExit(main())
