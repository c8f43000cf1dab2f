"""The PostgreSQL team store against the local SQLite store, measured in the same run.

Usage: python benchmarks/store.py [--rounds N] [--calls N] [--records N]

Starts a local PostgreSQL server (tests/pg_server.py: Debian's initdb/pg_ctl in a
temp dir, 127.0.0.1, fsync on as a real server would run) and makes two homes with
the same data: the bundled catalog and N call rows (default 20,000) in the
selection window. Then, for each store:

- in-process: `record_attempt` (one attempt in its own write transaction, what every
  provider call costs) and a warm `SelectionEngine.select` over the catalog
  (median ms);
- whole process: `jarvis select --json` and `jarvis stats --json`, interleaved
  over N rounds.

Prints each figure and the ratio PostgreSQL / SQLite. Goal (issue 28): whole-process
select <= 1.35x SQLite.
"""

from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.realpath(__file__))
sys.path[:] = [p for p in sys.path if os.path.realpath(p or ".") != _HERE] + [_HERE]

import argparse  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from _timing import (  # noqa: E402
    TEST_MASTER_KEY,
    bench_env,
    byte_compile_jarvis,
    insert_synthetic_calls,
    jarvis_command,
    median_ms,
    time_once,
)

SELECT_TARGET = 1.35


def _populate(env: dict[str, str], n_calls: int) -> None:
    from jarvis_cli.core.context import Context
    from jarvis_cli.core.registry.model_registry import ModelRegistry

    ctx = Context(env=env)
    registry = ModelRegistry(ctx)
    registry.ensure_catalog()
    ids = [m.id for m in registry.list_models()][:300]
    with ctx.store.write() as conn:
        insert_synthetic_calls(conn, ids, n_calls, random.Random(7))
    ctx.close()


def in_process(env: dict[str, str], runs: int, records: int) -> dict[str, float]:
    from jarvis_cli.core.context import Context
    from jarvis_cli.core.runs.attempts import Attempt, record_attempt
    from jarvis_cli.core.selection.engine import SelectionEngine
    from jarvis_cli.core.selection.types import SelectionRequest

    ctx = Context(env=env)
    engine = SelectionEngine(ctx)
    request = SelectionRequest(strategy="balanced")
    engine.select(request)  # builds the caches
    select = median_ms(lambda: engine.select(request), runs)
    counter = iter(range(10**9))

    def record() -> None:
        n = next(counter)
        attempt = Attempt(
            model_id="openai/gpt-4o-mini", provider="openai", kind="chat", attempt=1,
            ok=True, at=time.time(), latency_ms=420.0, ttft_ms=120.0, status_code=200,
            prompt_tokens=12, completion_tokens=30, cost_usd=0.00002,
        )  # fmt: skip
        record_attempt(ctx.store, f"bench-{n}", attempt)

    recorded = median_ms(record, records)
    ctx.close()
    return {"select": select, "record": recorded}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", "--runs", type=int, default=11, dest="runs")
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--records", type=int, default=200)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from tests.pg_server import find_unavailable_reason, start_server

    reason = find_unavailable_reason()
    if reason is not None:
        print(f"cannot run: {reason}")
        return 2
    server = start_server(fsync=True)
    try:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            envs: dict[str, dict[str, str]] = {}
            for name in ("sqlite", "postgresql"):
                home = tmp / name
                home.mkdir(mode=0o700)
                env = bench_env(home)
                env["JARVIS_MASTER_KEY"] = TEST_MASTER_KEY
                env["OPENAI_API_KEY"] = "sk-bench-not-a-real-key-0000"
                if name == "postgresql":
                    env["JARVIS_STORE_URL"] = server.fresh_database()
                _populate(env, args.calls)
                envs[name] = env
            print(f"{args.calls:,} call rows, bundled catalog, PostgreSQL {server.version()}\n")
            print("In-process (median ms)")
            found = {name: in_process(env, args.runs, args.records) for name, env in envs.items()}
            for what in ("record", "select"):
                s, p = found["sqlite"][what], found["postgresql"][what]
                label = "record_attempt" if what == "record" else "warm select"
                print(f"  {label:<15} sqlite {s:7.2f}  postgresql {p:7.2f}  ratio {p / s:5.2f}")
            print(f"\nWhole process, {args.runs} interleaved rounds (median ms)")
            jarvis = jarvis_command()
            byte_compile_jarvis()
            ratios = {}
            for args_ in (["select", "--json"], ["stats", "--json"]):
                samples: dict[str, list[float]] = {name: [] for name in envs}
                for round_ in range(args.runs + 2):  # sqlite, then postgresql, each round
                    for name, env in envs.items():
                        ms = time_once([*jarvis, *args_], env)
                        if round_ >= 2:  # two warm-up rounds
                            samples[name].append(ms)
                s, p = (statistics.median(samples[n]) for n in ("sqlite", "postgresql"))
                ratios[args_[0]] = p / s
                print(
                    f"  jarvis {' '.join(args_):<15} sqlite {s:7.1f}  postgresql {p:7.1f}  "
                    f"ratio {p / s:5.2f}"
                )
            verdict = "OK" if ratios["select"] <= SELECT_TARGET else "OVER TARGET"
            print(
                f"\nselect --json, PostgreSQL / SQLite = {ratios['select']:.2f} "
                f"(goal <= {SELECT_TARGET}): {verdict}"
            )
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
