"""`jarvis serve` against LiteLLM's proxy, both in front of one fake upstream (issue 26).

    .venv/bin/python benchmarks/serve.py [--requests 20000] [--concurrency 64]
        [--workers CORES] [--soak 100000] [--no-litellm]

The upstream (benchmarks/serve_upstream.py, run with `python -P`) answers every chat
request in 20 ms, in its own process. Both servers get `--workers` = the number of
cores (LiteLLM under gunicorn: uvicorn's 5 s worker health check kills its workers
while they still import on a loaded machine). Printed:
requests per second at the given concurrency (after a warm-up), the median latency
of sequential requests direct to the upstream and through each server (the added
latency is the difference), and the RSS of jarvis serve's processes after 10,000
and after `--soak` requests in total. The load generator runs on the same machine
(asyncio + httpx), so it competes for the same cores as the servers: figures are
for comparing, not absolute.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
# benchmarks/select.py would shadow the stdlib's `select` (which asyncio and
# subprocess import): keep this directory behind the stdlib on sys.path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE] + [str(_HERE)]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
LITELLM = REPO / ".venv-litellm" / "bin" / "litellm"
SOAK_STEP = 10_000
BODY = b'{"model": "%s", "messages": [{"role": "user", "content": "ping"}], "max_tokens": 8}'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(url: str, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"not up: {url}")


def rss_mb(pid: int) -> float:
    """RSS of `pid` and all its descendants, MiB."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            status = Path(f"/proc/{p}/status").read_text()
            total += int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
            for task in Path(f"/proc/{p}/task").iterdir():
                children = (task / "children").read_text().split()
                todo += [int(c) for c in children]
        except (OSError, AttributeError):
            continue
    return total / 1024


async def load(url: str, model: str, n: int, concurrency: int) -> tuple[float, list[float]]:
    """Send `n` chat requests with `concurrency` in flight; (req/s, latencies in ms)."""
    import httpx2 as httpx

    body = BODY % model.encode()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    latencies: list[float] = []
    failures = 0
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        left = n

        async def worker() -> None:
            nonlocal left, failures
            while left > 0:
                left -= 1
                t0 = time.perf_counter()
                r = await client.post(
                    url + "/chat/completions",
                    content=body,
                    headers={"content-type": "application/json", "authorization": "Bearer bench"},
                )
                latencies.append((time.perf_counter() - t0) * 1000)
                if r.status_code != 200:
                    failures += 1
                    if failures == 1:
                        print(f"  first failure: {r.status_code} {r.text[:300]}", flush=True)

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - t0
    if failures:
        print(f"  {failures} of {n} requests failed", flush=True)
    return n / elapsed, latencies


def run_load(url: str, model: str, n: int, concurrency: int) -> tuple[float, list[float]]:
    return asyncio.run(load(url, model, n, concurrency))


def start_jarvis(upstream: str, workers: int, home: Path) -> tuple[subprocess.Popen[str], str]:
    home.mkdir(mode=0o700, parents=True)
    (home / "config.toml").write_text(
        f'[providers.up]\nbase_url = "{upstream}"\nneeds_key = false\n'
    )
    (home / "config.toml").chmod(0o600)
    env = {**os.environ, "JARVIS_HOME": str(home), "JARVIS_MASTER_KEY": "A" * 43 + "="}
    jarvis = [sys.executable, "-m", "jarvis_cli"]
    subprocess.run([*jarvis, "models", "sync", "up"], env=env, check=True, capture_output=True)
    proc = subprocess.Popen(
        [*jarvis, "serve", "--port", "0", "--workers", str(workers)],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    while True:
        line = proc.stderr.readline()
        if not line:
            raise SystemExit("jarvis serve did not start")
        found = re.search(r"listening on (http://\S+)", line)
        if found:
            url = found.group(1)
            break
    wait_up(url.removesuffix("/v1") + "/healthz")
    return proc, url


def start_litellm(upstream: str, workers: int, work: Path) -> tuple[subprocess.Popen[bytes], str]:
    config = work / "litellm.yaml"
    config.write_text(
        "model_list:\n  - model_name: fake\n    litellm_params:\n      model: openai/fake\n"
        f"      api_base: {upstream}\n      api_key: none\n"
        "litellm_settings:\n  telemetry: false\n"
    )
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(work),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "LITELLM_TELEMETRY": "False",
        "DISABLE_SCHEMA_UPDATE": "True",
        "PYTHONDONTWRITEBYTECODE": "1",
        "LITELLM_DANGEROUSLY_PERMIT_WEAK_OR_UNSET_MASTER_KEY": "true",
        "LITELLM_LOG": "ERROR",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    proc = subprocess.Popen(
        [
            str(LITELLM),
            "--config",
            str(config),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--num_workers",
            str(workers),
            "--run_gunicorn",
        ],
        env=env,
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=(work / "litellm.log").open("wb"),
    )
    wait_up(f"http://127.0.0.1:{port}/health/liveliness")
    return proc, f"http://127.0.0.1:{port}/v1"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=20_000)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--soak", type=int, default=100_000)
    ap.add_argument("--sequential", type=int, default=300)
    ap.add_argument("--no-litellm", action="store_true")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="jarvis-serve-bench-"))
    port = free_port()
    upstream_proc = subprocess.Popen(
        [sys.executable, "-P", str(HERE / "serve_upstream.py"), str(port)], stdin=subprocess.DEVNULL
    )
    upstream = f"http://127.0.0.1:{port}/v1"
    procs: list[subprocess.Popen[bytes] | subprocess.Popen[str]] = [upstream_proc]
    try:
        wait_up(upstream + "/models")
        jarvis_proc, jarvis_url = start_jarvis(upstream, args.workers, work / "home")
        procs.append(jarvis_proc)
        targets = {"direct": (upstream, "fake"), "jarvis": (jarvis_url, "up/fake")}
        if not args.no_litellm and LITELLM.exists():
            lite_proc, lite_url = start_litellm(upstream, args.workers, work)
            procs.append(lite_proc)
            targets["litellm"] = (lite_url, "fake")
        print(
            f"cores {os.cpu_count()}, workers {args.workers}, concurrency "
            f"{args.concurrency}, upstream 20 ms (machine shared: figures are relative)"
        )
        served = 0
        medians = {}
        for name, (url, model) in targets.items():
            run_load(url, model, 500, args.concurrency)  # warm-up
            _, lat = run_load(url, model, args.sequential, 1)
            medians[name] = statistics.median(lat)
            if name == "jarvis":
                served += 500 + args.sequential
        rates = {}
        for name, (url, model) in targets.items():
            if name == "direct":
                continue
            rps, lat = run_load(url, model, args.requests, args.concurrency)
            rates[name] = rps
            if name == "jarvis":
                served += args.requests
            print(
                f"{name:8s} {rps:8.0f} req/s at concurrency {args.concurrency}, "
                f"p50 {statistics.median(lat):.1f} ms",
                flush=True,
            )
        for name, med in medians.items():
            added = "" if name == "direct" else f" (added {med - medians['direct']:+.2f} ms)"
            print(f"{name:8s} sequential median {med:.2f} ms{added}")
        if "litellm" in rates:
            print(f"jarvis/litellm throughput: {rates['jarvis'] / rates['litellm']:.2f}x")
        url, model = targets["jarvis"]
        if served < 10_000:
            run_load(url, model, 10_000 - served, args.concurrency)
            served = 10_000
        rss_10k = rss_mb(jarvis_proc.pid)
        print(f"jarvis RSS after {served:,} requests: {rss_10k:.1f} MiB", flush=True)
        if args.soak > served:
            t0 = time.perf_counter()
            while served < args.soak:  # the curve, not only its end: a plateau or a slope
                step = min(SOAK_STEP, args.soak - served)
                run_load(url, model, step, args.concurrency)
                served += step
                print(f"  {served:>7,} requests: {rss_mb(jarvis_proc.pid):.1f} MiB", flush=True)
            rss_soak = rss_mb(jarvis_proc.pid)
            growth = (rss_soak / rss_10k - 1) * 100
            print(
                f"jarvis RSS after {args.soak:,} requests: {rss_soak:.1f} MiB "
                f"({growth:+.1f} %; soak took {time.perf_counter() - t0:.0f} s)"
            )
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(work, ignore_errors=True)  # the servers' homes and logs


if __name__ == "__main__":
    main()
