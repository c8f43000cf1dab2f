"""Content-log search: `jarvis log -q WORD` over 100,000 logged requests.

Usage: python benchmarks/log_search.py [--runs N] [--requests N]

Builds a temp store with N logged requests (prompt and answer of ~40 words each from
a 5,000-word vocabulary, one attempt per request, a fallback attempt for 1 in 10),
then measures:

- in-process (target <= 100 ms): `jarvis log -q WORD --json` through the CLI's
  `run()` in this process (argument parsing, FTS5 query, JSON), for a rare word
  (~0.1% of requests), a common one (~40%) and two words together; and the core
  `search_log` alone;
- whole process (target <= 1.3x): `python -m jarvis_cli log -q WORD --json` against
  the one-command Typer app of benchmarks/select.py, >= 10 interleaved runs.
"""

from __future__ import annotations

import os
import sys

# benchmarks/select.py shares its name with the stdlib `select` module: keep this
# directory behind the stdlib on sys.path.
_HERE = os.path.dirname(os.path.realpath(__file__))
sys.path[:] = [p for p in sys.path if os.path.realpath(p or ".") != _HERE] + [_HERE]

import argparse  # noqa: E402
import contextlib  # noqa: E402
import io  # noqa: E402
import random  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

from _timing import (  # noqa: E402
    FLOOR_APP,
    TEST_MASTER_KEY,
    bench_env,
    interleaved,
    median_ms,
    print_ratio,
    report,
)

IN_PROCESS_TARGET_MS = 100.0
WHOLE_PROCESS_TARGET = 1.3
# The same command line as `jarvis log` (a group: options, `show`, `prune`), doing
# nothing: what Typer 0.29 itself costs for it (a pydantic TypeAdapter per option).
SAME_OPTIONS_APP = '''from typing import Annotated

import typer

app = typer.Typer(invoke_without_command=True)


@app.callback()
def log(
    ctx: typer.Context,
    n: Annotated[int, typer.Option("-n", "--limit", min=1)] = 20,
    query: Annotated[str | None, typer.Option("--query", "-q")] = None,
    cid: Annotated[str | None, typer.Option("--cid")] = None,
    model: Annotated[str | None, typer.Option("--model", "-m")] = None,
    since: Annotated[str | None, typer.Option("--since")] = None,
    json_output: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Do nothing."""


@app.command()
def show(request_id: str, json_output: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Do nothing."""


@app.command()
def prune(
    older_than: Annotated[str, typer.Option("--older-than")],
    json_output: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Do nothing."""


if __name__ == "__main__":
    app()
'''
RARE, COMMON = "quokka", "the"


def _populate(home: Path, n: int, rng: random.Random) -> dict[str, str]:
    from jarvis_cli.core.context import Context

    home.mkdir(mode=0o700, parents=True)
    env = {"JARVIS_HOME": str(home), "JARVIS_MASTER_KEY": TEST_MASTER_KEY}
    ctx = Context(env=env)
    vocab = [f"w{i}" for i in range(5_000)]
    now = time.time()
    calls, logs = [], []
    for i in range(n):
        words = rng.choices(vocab, k=80)
        if rng.random() < 0.4:
            words[rng.randrange(80)] = COMMON
        if i % 1000 == 7:
            words[rng.randrange(80)] = RARE
        at = now - (n - i) * 30.0
        model = f"p{i % 5}/model-{i % 17}"
        rid = f"req{i:08d}"
        if i % 10 == 0:
            calls.append((rid, at - 1, f"p9/model-{i % 3}", "p9", 1, 0, "unavailable"))
        calls.append((rid, at, model, model.split("/")[0], 2 if i % 10 == 0 else 1, 1, None))
        logs.append(
            (rid, f"conv{i // 3:08d}", at, model, model.split("/")[0],
             " ".join(words[:40]), " ".join(words[40:]))
        )  # fmt: skip
    with ctx.store.write() as conn:
        conn.executemany(
            "INSERT INTO calls(request_id, at, model_id, provider, kind, attempt, ok,"
            " error_class, latency_ms) VALUES (?, ?, ?, ?, 'chat', ?, ?, ?, 500)",
            calls,
        )
        conn.executemany(
            "INSERT INTO log_requests(request_id, conversation_id, at, kind, model_id,"
            " provider, prompt, answer) VALUES (?, ?, ?, 'chat', ?, ?, ?, ?)",
            logs,
        )
    ctx.close()
    return env


def in_process(env: dict[str, str], runs: int) -> dict[str, float]:
    from jarvis_cli.cli import run
    from jarvis_cli.cli.common import reset_context
    from jarvis_cli.core.context import Context
    from jarvis_cli.core.runs.log_reads import search_log

    os.environ.update(env)
    reset_context()

    def cli(*words: str) -> Callable[[], object]:
        def go() -> object:
            with contextlib.redirect_stdout(io.StringIO()) as out:
                code = run(["log", "-q", " ".join(words), "--json"])
            assert code == 0 and out.getvalue().startswith("["), code
            return out

        return go

    ctx = Context(env=env)
    results = {
        f"cli log -q {RARE}": median_ms(cli(RARE), runs),
        f"cli log -q {COMMON}": median_ms(cli(COMMON), runs),
        f"cli log -q '{COMMON} w42'": median_ms(cli(COMMON, "w42"), runs),
        f"core search_log {COMMON}": median_ms(
            lambda: search_log(ctx.store.conn, query=COMMON, limit=20), runs
        ),
        f"core search_log {COMMON} -m p1/model-1": median_ms(
            lambda: search_log(ctx.store.conn, query=COMMON, model_id="p1/model-1", limit=20),
            runs,
        ),
    }
    ctx.close()
    reset_context()
    return results


def whole_process(env: dict[str, str], runs: int, tmp: Path) -> float:
    floor = tmp / "floor.py"
    floor.write_text(FLOOR_APP)
    same = tmp / "same_options.py"
    same.write_text(SAME_OPTIONS_APP)
    full_env = {**bench_env(Path(env["JARVIS_HOME"])), **env}
    subject = f"python -m jarvis_cli log -q {RARE} --json"
    commands = {
        "python floor.py": [sys.executable, str(floor)],
        "python same_options.py -q x --json": [sys.executable, str(same), "-q", "x", "--json"],
        subject: [sys.executable, "-m", "jarvis_cli", "log", "-q", RARE, "--json"],
    }
    samples = interleaved(commands, runs, full_env)
    print(f"\n{runs} interleaved runs each\n")
    medians = report(samples, "python floor.py")
    ratio = print_ratio(medians, subject, "python floor.py", WHOLE_PROCESS_TARGET, "log -q / floor")
    own = medians[subject] / medians["python same_options.py -q x --json"]
    print(f"log -q / Typer app with the same command line = {own:.2f} (jarvis's own share)")
    return ratio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--requests", type=int, default=100_000)
    args = parser.parse_args()
    runs = max(10, args.runs)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        start = time.perf_counter()
        env = _populate(tmp / "home", args.requests, random.Random(13))
        size = sum(p.stat().st_size for p in (tmp / "home").iterdir())
        print(
            f"store: {args.requests:,} logged requests, {size / 1_048_576:.0f} MiB, "
            f"built in {time.perf_counter() - start:.1f} s\n"
        )
        print("in-process, median ms")
        worst = 0.0
        for name, ms in in_process(env, runs).items():
            print(f"  {name:<40} {ms:7.1f}")
            if name.startswith("cli"):
                worst = max(worst, ms)
        verdict = "OK" if worst <= IN_PROCESS_TARGET_MS else "OVER TARGET"
        print(
            f"\nslowest `log -q`: {worst:.1f} ms (target <= {IN_PROCESS_TARGET_MS:.0f}): {verdict}"
        )
        whole_process(env, runs, tmp)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
