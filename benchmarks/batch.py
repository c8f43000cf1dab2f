"""Throughput of `jarvis batch` against a bare AsyncOpenAI script, and its peak memory.

Usage: python benchmarks/batch.py [--lines N] [--rounds R] [--rss-lines M]

A loopback fake provider (tests/fake_provider.py) runs in a separate process (so it
does not share the GIL with what is measured) and answers every chat request after
50 ms. For concurrency 32 and 128, interleaved over R rounds, both run the same N
lines:

- bare: a script that imports the `openai` SDK and sends N chat requests with
  `AsyncOpenAI`, at most C at once (no routing, no recording, no output file);
- jarvis: `jarvis batch IN.jsonl -o OUT.jsonl --concurrency C --model bench/fake-chat`
  (a whole process: start-up, planning, budget check, the call, one `calls` row
  per attempt, one output line per input line).

Each run's throughput is N / whole-process seconds. Prints medians per side and
their ratio. Targets: jarvis >= 0.9x bare at 32, >= 0.8x at 128.

Then peak RSS of `jarvis batch` over an M-line input (default 100,000) with the
fake answering at once, read from the child's rusage. Target: <= 200 MB.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE] + [str(_HERE)]

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import textwrap  # noqa: E402
import time  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from _timing import bench_env, byte_compile_jarvis, jarvis_command, time_once  # noqa: E402

KEY = "sk-bench-0123456789abcdefghijklmnop"
TARGETS = {32: 0.9, 128: 0.8}
RSS_TARGET_MB = 200

SERVER = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, sys.argv[1])
    from tests.fake_provider import Behavior, FakeProvider
    fake = FakeProvider(api_key=sys.argv[2]).start()
    fake.always(None, Behavior(delay_s=float(sys.argv[3])))
    fake._record = lambda request: None  # keep the server's memory flat over 100k lines
    print(fake.base_url, flush=True)
    sys.stdin.read()  # until the benchmark closes our stdin
    """
)

BARE = textwrap.dedent(
    """
    import asyncio, sys
    import openai

    async def main(base_url, key, n, c):
        client = openai.AsyncOpenAI(base_url=base_url, api_key=key, max_retries=0)
        gate = asyncio.Semaphore(c)

        async def one(i):
            async with gate:
                r = await client.chat.completions.create(
                    model="fake-chat", messages=[{"role": "user", "content": f"question {i}"}]
                )
                return r.choices[0].message.content

        answers = await asyncio.gather(*(one(i) for i in range(n)))
        assert len(answers) == n

    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
    """
)


RSS_PARENT = (
    "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)"
)


class Server:
    """The fake provider in its own process."""

    def __init__(self, delay_s: float) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(ROOT), KEY, str(delay_s)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.base_url = self.proc.stdout.readline().strip()

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def write_input(path: Path, n: int) -> None:
    with path.open("w") as f:
        for i in range(n):
            f.write(json.dumps({"id": f"q{i}", "prompt": f"question {i}"}) + "\n")


def setup_home(tmp: Path, base_url: str) -> dict[str, str]:
    home = tmp / "home"
    home.mkdir(mode=0o700, exist_ok=True)
    (home / "config.toml").write_text(f'[providers.bench]\nbase_url = "{base_url}"\n')
    (home / "config.toml").chmod(0o600)
    env = bench_env(home)
    env["JARVIS_BENCH_API_KEY"] = KEY
    return env


def throughput(lines: int, rounds: int) -> None:
    jarvis = jarvis_command()
    server = Server(0.05)
    try:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            env = setup_home(tmp, server.base_url)
            src = tmp / "in.jsonl"
            write_input(src, lines)
            bare = tmp / "bare.py"
            bare.write_text(BARE)
            byte_compile_jarvis()
            print(f"{lines} lines per run, fake provider answering in 50 ms, {rounds} rounds\n")
            print(f"{'concurrency':>11}  {'bare req/s':>10}  {'jarvis req/s':>12}  ratio  target")
            for c in (32, 128):
                bare_s, jarvis_s = [], []
                for r in range(rounds):
                    out = tmp / f"out-{c}-{r}.jsonl"
                    bare_s.append(
                        time_once(
                            [sys.executable, str(bare), server.base_url, KEY, str(lines), str(c)],
                            env,
                        )
                    )
                    jarvis_s.append(
                        time_once(
                            [
                                *jarvis,
                                "batch",
                                str(src),
                                "-o",
                                str(out),
                                "--concurrency",
                                str(c),
                                "--model",
                                "bench/fake-chat",
                            ],
                            env,
                        )
                    )
                    answered = sum(
                        1 for line in out.read_text().splitlines() if '"ok": true' in line
                    )
                    if answered != lines:
                        raise SystemExit(f"jarvis answered {answered} of {lines} lines")
                b = lines / (statistics.median(bare_s) / 1000)  # time_once gives ms
                j = lines / (statistics.median(jarvis_s) / 1000)
                verdict = "OK" if j / b >= TARGETS[c] else "UNDER TARGET"
                print(f"{c:>11}  {b:10.1f}  {j:12.1f}  {j / b:5.2f}  >= {TARGETS[c]}  {verdict}")
    finally:
        server.close()


def peak_rss(lines: int, concurrency: int) -> None:
    jarvis = jarvis_command()
    server = Server(0.0)
    try:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            env = setup_home(tmp, server.base_url)
            src = tmp / "in.jsonl"
            write_input(src, lines)
            out = tmp / "out.jsonl"
            # A fresh parent, so the figure is this one child's peak and nothing else's.
            cmd = [
                sys.executable, "-c", RSS_PARENT, *jarvis, "batch", str(src), "-o", str(out),
                "--concurrency", str(concurrency), "--model", "bench/fake-chat",
            ]  # fmt: skip
            start = time.perf_counter()
            proc = subprocess.run(
                cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True
            )
            seconds = time.perf_counter() - start
            if proc.returncode != 0:
                raise SystemExit(f"jarvis batch failed ({proc.returncode}): {proc.stderr}")
            peak_kb = int(proc.stdout.split()[-1])
            answered = sum(1 for _ in out.open())
            mb = peak_kb / 1024
            verdict = "OK" if mb <= RSS_TARGET_MB else "OVER TARGET"
            print(
                f"\npeak RSS of jarvis batch over {lines} lines (input "
                f"{src.stat().st_size / 1e6:.1f} MB, {answered} output lines, {seconds:.0f} s, "
                f"{lines / seconds:.0f} lines/s): {mb:.0f} MB "
                f"(target <= {RSS_TARGET_MB}): {verdict}"
            )
    finally:
        server.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rss-lines", type=int, default=100_000)
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args()
    if not args.skip_throughput:
        throughput(args.lines, args.rounds)
    if args.rss_lines:
        peak_rss(args.rss_lines, 32)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
