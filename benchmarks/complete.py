"""Whole-process cost of `jarvis complete` against a floor that makes the same call.

Usage: python benchmarks/complete.py [--runs N]

Starts the loopback fake provider (tests/fake_provider.py), points the `openai`
preset at it, stores a key in the vault, then runs interleaved (N >= 10 warm runs
each):

- jarvis: `jarvis complete "…" --no-stream --json` — selection over the registry,
  vault decryption, the call, and recording the attempt;
- floor: a script that imports what jarvis cannot avoid (typer, sqlite3,
  cryptography's AESGCM, openai) and makes the same chat call with the openai SDK.

Prints medians and the ratio. Target: jarvis <= 1.15x the floor.
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
import os  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import textwrap  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from _timing import bench_env, interleaved, jarvis_command, print_ratio, report  # noqa: E402

from tests.fake_provider import FakeProvider  # noqa: E402

TARGET = 1.15
KEY = "sk-bench-0123456789abcdefghijklmnop"

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=12)
    args = parser.parse_args()
    runs = max(10, args.runs)
    jarvis = jarvis_command()
    with FakeProvider() as fake, tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        env = bench_env(home)
        env["JARVIS_MASTER_KEY"] = base64.b64encode(os.urandom(32)).decode()
        home.mkdir(mode=0o700)
        (home / "config.toml").write_text(f'[providers.openai]\nbase_url = "{fake.base_url}"\n')
        (home / "config.toml").chmod(0o600)
        subprocess.run(
            [*jarvis, "keys", "add", "openai", "--stdin", "--no-validate"],
            input=KEY + "\n",
            text=True,
            env=env,
            check=True,
            capture_output=True,
        )
        probe = subprocess.run(
            [*jarvis, "complete", "Say hello", "--no-stream", "--json"],
            text=True,
            env=env,
            capture_output=True,
            check=True,
        )
        import json

        model = json.loads(probe.stdout)["model_id"].split("/", 1)[1]
        floor_file = Path(tmp) / "floor.py"
        floor_file.write_text(FLOOR)
        samples = interleaved(
            {
                "floor (imports + SDK call)": [
                    sys.executable,
                    str(floor_file),
                    fake.base_url,
                    KEY,
                    model,
                ],
                "jarvis complete --json": [
                    *jarvis,
                    "complete",
                    "Say hello",
                    "--no-stream",
                    "--json",
                ],
            },
            runs,
            env,
        )
    print(f"{runs} interleaved warm runs each; jarvis selected openai/{model}\n")
    medians = report(samples, "floor (imports + SDK call)")
    print_ratio(
        medians,
        "jarvis complete --json",
        "floor (imports + SDK call)",
        TARGET,
        "jarvis complete / floor",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
