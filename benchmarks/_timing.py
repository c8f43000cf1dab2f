"""Shared helpers for the whole-process benchmarks: interleaved runs, medians, a table."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any


def jarvis_command() -> list[str]:
    """The installed `jarvis` entry point next to this interpreter (else python -m)."""
    exe = Path(sys.executable).with_name("jarvis")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "jarvis_cli"]


def children_cpu_ms() -> float:
    """User + system CPU of every child process waited for so far, in ms."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (usage.ru_utime + usage.ru_stime) * 1000


def time_once(cmd: Sequence[str], env: Mapping[str, str] | None = None) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        cmd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=120,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(
            f"benchmark command failed ({proc.returncode}): {' '.join(cmd)}\n"
            f"{proc.stderr.decode(errors='replace')}"
        )
    return elapsed * 1000


def median_ms(fn: Callable[[], object], runs: int) -> float:
    """Median wall time of `runs` calls of `fn`, in ms (for in-process figures)."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def insert_synthetic_calls(conn: Any, ids: Sequence[str], n: int, rng: Any) -> None:
    """`n` chat attempts over `ids` in the last 20 days (95 % successful, log-normal
    latency and time to first token), inserted inside the caller's write transaction."""
    now = time.time()
    rows = []
    for i in range(n):
        mid = rng.choice(ids)
        ok = rng.random() < 0.95
        rows.append(
            (
                f"r{i}",
                now - rng.uniform(0, 20 * 86_400),
                mid,
                mid.split("/")[0],
                int(ok),
                None if ok else "unavailable",
                rng.lognormvariate(7, 0.6),
                rng.lognormvariate(5.5, 0.5),
            )
        )
    conn.executemany(
        "INSERT INTO calls(request_id, at, model_id, provider, kind, attempt, ok, "
        "error_class, latency_ms, ttft_ms) VALUES (?, ?, ?, ?, 'chat', 1, ?, ?, ?, ?)",
        rows,
    )


def byte_compile_jarvis() -> None:
    """Write jarvis_cli's .pyc files, as `pip install` does.

    With PYTHONDONTWRITEBYTECODE set (it is on this workplace's machines) an
    editable install would otherwise compile every jarvis module from source at
    every start, while the floors' packages (typer, pydantic, openai) come
    precompiled from site-packages: that measures the compiler, not jarvis.
    """
    import compileall

    import jarvis_cli

    compileall.compile_dir(Path(jarvis_cli.__file__).parent, quiet=1)


def interleaved(
    commands: Mapping[str, Sequence[str]],
    runs: int,
    env: Mapping[str, str] | None = None,
    warmup: int = 2,
    cpu: dict[str, list[float]] | None = None,
) -> dict[str, list[float]]:
    """Run every command once per round, `runs` rounds, so drift hits all of them alike.

    With `cpu`, each command's CPU time (user + system, its children included) is
    collected there too: on a loaded machine it moves far less than wall time."""
    byte_compile_jarvis()
    for _ in range(warmup):
        for cmd in commands.values():
            time_once(cmd, env)
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, cmd in commands.items():
            before = children_cpu_ms()
            samples[name].append(time_once(cmd, env))
            if cpu is not None:
                cpu.setdefault(name, []).append(children_cpu_ms() - before)
    return samples


def report(samples: Mapping[str, list[float]], baseline: str) -> dict[str, float]:
    """Print median/min/max per command and the ratio to `baseline`; return the medians."""
    medians = {name: statistics.median(v) for name, v in samples.items()}
    base = medians[baseline]
    width = max(len(n) for n in samples)
    print(f"{'command':<{width}}  {'median ms':>9}  {'min':>7}  {'max':>7}  {'x ' + baseline}")
    for name, values in samples.items():
        print(
            f"{name:<{width}}  {medians[name]:9.1f}  {min(values):7.1f}  {max(values):7.1f}  "
            f"{medians[name] / base:6.2f}"
        )
    return medians


def print_ratio(
    medians: Mapping[str, float], subject: str, floor: str, target: float, label: str
) -> float:
    """Print `label = subject/floor` against `target` with OK / OVER TARGET; return it."""
    ratio = medians[subject] / medians[floor]
    verdict = "OK" if ratio <= target else "OVER TARGET"
    print(f"\n{label} = {ratio:.2f} (target <= {target}): {verdict}")
    return ratio


def bench_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JARVIS_")}
    env["JARVIS_HOME"] = str(home)
    env["NO_COLOR"] = "1"
    return env


# A fixed master key for benchmark stores (never a real secret).
TEST_MASTER_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
# The floor every whole-process ratio is taken against: a one-command Typer app.
FLOOR_APP = '''import typer

app = typer.Typer()


@app.command()
def main() -> None:
    """Do nothing."""


if __name__ == "__main__":
    app()
'''
