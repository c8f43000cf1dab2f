"""Whole-process cost of `jarvis complete --model M` against the SDK floor and `llm`.

Usage: python benchmarks/complete.py [--rounds N] [--llama] [--llama-dir DIR]

Loopback (always): starts the fake provider (tests/fake_provider.py), points the
`openai` preset at it, stores a key in the vault, then runs interleaved rounds
(N >= 10; each command once per round, so load drifts hit them alike):

- floor: a script that imports what jarvis cannot avoid (typer, sqlite3,
  cryptography's AESGCM, openai) and makes the same chat call with the openai SDK;
- the same floor with jarvis's collector settings (shown, no target): the first
  generation's threshold raised at start and the heap frozen before exit, as
  `jarvis_cli.cli.main` does. jarvis over this row is what jarvis itself costs;
  the floor's row above also pays the interpreter's exit collection over the SDK's
  ~76,000 objects, which jarvis skips;
- `jarvis complete --model openai/M --no-stream --json "Say hello"`: the vault, the
  call, the attempt and the content log recorded (the target row);
- `jarvis complete --no-stream --json "Say hello"`: the same with selection (shown);
- `llm -m bench --no-stream "Say hello"` (simonw/llm, `pip install -e '.[bench]'`),
  configured for the same server through extra-openai-models.yaml, logging to its
  own SQLite database as it does by default: the same interpreter, the same `openai`.
  numpy is hidden from it: numpy is no dependency of llm, but its sqlite_utils
  imports numpy when installed, and [bench]'s matplotlib installs it (~60-100 ms
  that `pip install llm` on its own does not pay).

With --llama, also against a real llama.cpp server (SmolLM2-135M, started with
/work/shared/tools/llama_server.sh or $JARVIS_LLAMA_SERVER_SH): jarvis against a bare
SDK script (`import openai` and the call, nothing else), the same max_tokens and
temperature 0.

Targets (issue 28): jarvis --model <= 1.10x the floor and <= 0.9x llm on loopback;
<= 1.08x the bare SDK script on llama.cpp.
"""

from __future__ import annotations

import sys
from pathlib import Path

# benchmarks/select.py shares its name with the stdlib `select` module (which
# subprocess imports): keep this directory behind the stdlib on sys.path.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE] + [str(_HERE)]

import argparse  # noqa: E402
import base64  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import textwrap  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from _timing import bench_env, interleaved, jarvis_command, print_ratio, report  # noqa: E402

from tests.fake_provider import FakeProvider  # noqa: E402

FLOOR_TARGET = 1.10
LLM_TARGET = 0.9
LLAMA_TARGET = 1.08
KEY = "sk-bench-0123456789abcdefghijklmnop"
MODEL = "gpt-4o-mini"
PROMPT = "Say hello"
LLAMA_SH = Path(os.environ.get("JARVIS_LLAMA_SERVER_SH", "/work/shared/tools/llama_server.sh"))
LLAMA_MAX_TOKENS = 16

FLOOR = textwrap.dedent(
    """
    import json, sqlite3, sys
    import typer
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    import openai

    client = openai.OpenAI(base_url=sys.argv[1], api_key=sys.argv[2], max_retries=0)
    r = client.chat.completions.create(
        model=sys.argv[3], messages=[{"role": "user", "content": "Say hello"}]
    )
    print(json.dumps({"text": r.choices[0].message.content, "usage": r.usage.total_tokens}))
    """
)

# The floor with what jarvis_cli.cli.main does to the cyclic collector (same call).
FLOOR_SAME_GC = FLOOR.replace(
    "import json, sqlite3, sys\n",
    "import gc, json, sqlite3, sys\ngc.set_threshold(50_000, *gc.get_threshold()[1:])\n",
).replace("print(json.dumps(", "gc.freeze()\nprint(json.dumps(")

# llm as `pip install llm` installs it: no numpy (see the module docstring).
LLM_WITHOUT_NUMPY = (
    "import sys; sys.modules['numpy'] = None; sys.argv[0] = 'llm'; "
    "from llm.cli import cli; sys.exit(cli())"
)

BARE_SDK = textwrap.dedent(
    """
    import sys
    import openai

    client = openai.OpenAI(base_url=sys.argv[1], api_key="none", max_retries=0)
    r = client.chat.completions.create(
        model=sys.argv[2],
        messages=[{"role": "user", "content": "Say hello"}],
        max_tokens=int(sys.argv[3]),
        temperature=0,
    )
    print(r.choices[0].message.content)
    """
)

FLOOR_ROW = "floor (imports + SDK call)"
FLOOR_GC_ROW = "floor, jarvis's GC settings"
JARVIS_ROW = "jarvis complete --model"
SELECT_ROW = "jarvis complete (selection)"
LLM_ROW = "llm -m (same server)"


def _llm_command(work: Path, base_url: str, env: dict[str, str]) -> list[str] | None:
    """`llm` set up for the fake server in its own user dir, or None if not installed."""
    if importlib.util.find_spec("llm") is None:
        return None
    user = work / "llm"
    user.mkdir()
    (user / "extra-openai-models.yaml").write_text(
        f'- model_id: bench\n  model_name: {MODEL}\n  api_base: "{base_url}"\n'
        "  api_key_name: bench\n"
    )
    (user / "keys.json").write_text(json.dumps({"bench": KEY}))
    env["LLM_USER_PATH"] = str(user)
    return [sys.executable, "-c", LLM_WITHOUT_NUMPY, "-m", "bench", "--no-stream", PROMPT]


def _jarvis_home(work: Path, name: str, config: str, key: bool) -> dict[str, str]:
    home = work / name
    env = bench_env(home)
    env["JARVIS_MASTER_KEY"] = base64.b64encode(os.urandom(32)).decode()
    home.mkdir(mode=0o700)
    (home / "config.toml").write_text(config)
    (home / "config.toml").chmod(0o600)
    if key:
        subprocess.run(
            [*jarvis_command(), "keys", "add", "openai", "--stdin", "--no-validate"],
            input=KEY + "\n",
            text=True,
            env=env,
            check=True,
            capture_output=True,
        )
    return env


def loopback(rounds: int) -> None:
    jarvis = jarvis_command()
    with FakeProvider() as fake, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = _jarvis_home(
            work, "home", f'[providers.openai]\nbase_url = "{fake.base_url}"\n', key=True
        )
        floor_file = work / "floor.py"
        floor_file.write_text(FLOOR)
        floor_gc_file = work / "floor_gc.py"
        floor_gc_file.write_text(FLOOR_SAME_GC)
        commands = {
            FLOOR_ROW: [sys.executable, str(floor_file), fake.base_url, KEY, MODEL],
            FLOOR_GC_ROW: [sys.executable, str(floor_gc_file), fake.base_url, KEY, MODEL],
            JARVIS_ROW: [
                *jarvis,
                "complete",
                "--model",
                f"openai/{MODEL}",
                "--no-stream",
                "--json",
                PROMPT,
            ],
            SELECT_ROW: [*jarvis, "complete", "--no-stream", "--json", PROMPT],
        }
        llm = _llm_command(work, fake.base_url, env)
        if llm is not None:
            commands[LLM_ROW] = llm
        cpu: dict[str, list[float]] = {}
        samples = interleaved(commands, rounds, env, cpu=cpu)
    for title, figures in (("wall time", samples), ("CPU time (user + system)", cpu)):
        print(f"\nloopback fake provider, {rounds} interleaved rounds, {title}\n")
        medians = report(figures, FLOOR_ROW)
        print_ratio(medians, JARVIS_ROW, FLOOR_ROW, FLOOR_TARGET, "jarvis --model / floor")
        print(
            f"jarvis --model / floor with jarvis's GC settings = "
            f"{medians[JARVIS_ROW] / medians[FLOOR_GC_ROW]:.2f} (shown: jarvis's own cost)"
        )
        if llm is None:
            print("llm not installed (pip install -e '.[bench]'): no llm comparison")
        else:
            print_ratio(medians, JARVIS_ROW, LLM_ROW, LLM_TARGET, "jarvis --model / llm")


def llama(rounds: int, workdir: Path) -> None:
    if not LLAMA_SH.exists():
        print(f"\n{LLAMA_SH} not found: no llama.cpp comparison")
        return
    started = subprocess.run(
        ["bash", str(LLAMA_SH), str(workdir)], capture_output=True, text=True, check=False
    )
    if started.returncode != 0:
        print(f"\nllama.cpp server did not start: {started.stderr.strip()[-500:]}")
        return
    pid, port = (int(x) for x in started.stdout.split())
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            config = f'[providers.local]\nbase_url = "{base_url}"\nneeds_key = false\n'
            env = _jarvis_home(work, "home", config, key=False)
            bare = work / "bare.py"
            bare.write_text(BARE_SDK)
            commands = {
                "bare SDK script": [
                    sys.executable,
                    str(bare),
                    base_url,
                    "smollm2",
                    str(LLAMA_MAX_TOKENS),
                ],
                "jarvis complete --model local/smollm2": [
                    *jarvis_command(),
                    "complete",
                    "--model",
                    "local/smollm2",
                    "--no-stream",
                    "--json",
                    "--max-tokens",
                    str(LLAMA_MAX_TOKENS),
                    "--temperature",
                    "0",
                    PROMPT,
                ],
            }
            samples = interleaved(commands, rounds, env)
    finally:
        os.kill(pid, 15)
    # Wall time only: the answer's cost is in the server, which is no child of this run.
    print(f"\nreal llama.cpp server (SmolLM2-135M), {rounds} interleaved rounds, wall time\n")
    medians = report(samples, "bare SDK script")
    print_ratio(
        medians,
        "jarvis complete --model local/smollm2",
        "bare SDK script",
        LLAMA_TARGET,
        "jarvis / bare SDK (llama.cpp)",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", "--runs", type=int, default=12, dest="rounds")
    parser.add_argument("--llama", action="store_true", help="also the real llama.cpp server")
    parser.add_argument(
        "--llama-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "jarvis-bench-llama",
        help="llama_server.sh's work dir (keeps its venv and model between runs)",
    )
    args = parser.parse_args()
    rounds = max(10, args.rounds)
    loopback(rounds)
    if args.llama:
        llama(rounds, args.llama_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
