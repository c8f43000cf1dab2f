"""The batch summary (issue 27): `unknown` cost when prices are unknown, printed on
Ctrl-C too, and as JSON with --json."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.cli.test_batch import Fleet, fleet, read_output, write_input  # noqa: F401
from tests.conftest import run_jarvis
from tests.fake_provider import Behavior
from tests.pg_server import PgServer


def test_unpriced_answers_make_the_cost_unknown_not_zero(
    fleet: Fleet,  # noqa: F811
    tmp_path: Path,
) -> None:
    src = write_input(tmp_path / "in.jsonl", 3)
    out = tmp_path / "out.jsonl"
    result = fleet.run("batch", str(src), "-o", str(out), "--model", "alpha/fake-chat", "--json")
    assert result.returncode == 0, result.stderr
    assert "cost unknown (no price for the models used)" in result.stderr
    assert "$0.0000" not in result.stderr
    summary = json.loads(result.stdout)
    assert summary["answered"] == 3 and summary["unpriced_answers"] == 3
    assert summary["exit_code"] == 0 and summary["lines"] == 3

    priced = fleet.run(
        "models", "set", "beta/fake-chat", "--input-price", "1", "--output-price", "2"
    )
    assert priced.returncode == 0, priced.stderr
    mixed_src = tmp_path / "mixed.jsonl"
    mixed_src.write_text(
        '{"id": "a", "prompt": "x", "model": "alpha/fake-chat"}\n'
        '{"id": "b", "prompt": "y", "model": "beta/fake-chat"}\n'
    )
    mixed = fleet.run("batch", str(mixed_src), "-o", str(tmp_path / "m.jsonl"))
    assert mixed.returncode == 0, mixed.stderr
    assert "+ unknown (1 answer(s) without a price)" in mixed.stderr


def test_json_summary_needs_an_output_file(fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    src = write_input(tmp_path / "in.jsonl", 1)
    result = fleet.run("batch", str(src), "--json", "--model", "alpha/fake-chat")
    assert result.returncode == 2
    assert "--json prints the summary on stdout, which -o - gives to the results" in (result.stderr)
    assert fleet.alpha.count("/chat/completions") == 0


def test_ctrl_c_prints_the_summary_and_json(fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    fleet.alpha.always("fake-chat", Behavior(delay_s=0.05))
    src = write_input(tmp_path / "in.jsonl", 300)
    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "jarvis_cli", "batch", str(src), "-o", str(out),
         "--concurrency", "4", "--model", "alpha/fake-chat", "--json"],
        env={**os.environ, **fleet.env}, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if out.exists() and len(out.read_bytes().splitlines()) >= 10:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    done = read_output(out)
    assert "jarvis: batch: " in stderr
    assert f"{len(done)} answered" in stderr
    assert "interrupted: rerun the same command to resume" in stderr
    summary = json.loads(stdout)
    assert summary["exit_code"] == 130 and summary["answered"] == len(done)


def test_batch_on_a_postgresql_store_caps_its_connections(
    fleet: Fleet,  # noqa: F811
    tmp_path: Path,
    pg_server: PgServer,
    pg_url: str,
) -> None:
    # A role allowed 10 connections: 32 workers with a connection each used to fail with
    # "too many connections for role" part-way through.
    database = pg_url.rsplit("/", 1)[1]
    role = f"small_{database}"
    pg_server._admin(f'CREATE ROLE "{role}" LOGIN CONNECTION LIMIT 10')
    pg_server._admin(f'ALTER DATABASE "{database}" OWNER TO "{role}"')
    url = pg_url.replace("postgresql://postgres@", f"postgresql://{role}@")
    src = write_input(tmp_path / "in.jsonl", 60)
    out = tmp_path / "out.jsonl"
    fleet.alpha.always("fake-chat", Behavior(delay_s=0.02))
    env = {**fleet.env, "JARVIS_STORE_URL": url}
    result = run_jarvis(
        "batch", str(src), "-o", str(out), "--concurrency", "32", "--model", "alpha/fake-chat",
        "--json", env=env, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["answered"] == 60
    assert 1 <= summary["store_connection_cap"] < 10
    assert "the PostgreSQL store had room for few connections: concurrency 32 was capped at" in (
        result.stderr
    )
    assert len(read_output(out)) == 60


PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000005000157a8e1b60000000049454e44ae426082"
)


def test_batch_line_attaches_files_relative_to_in(fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    (tmp_path / "dot.png").write_bytes(PNG)
    src = tmp_path / "in.jsonl"
    src.write_text(
        '{"id": "a", "prompt": "what is this?", "attachments": ["dot.png"]}\n'
        '{"id": "b", "prompt": "plain text"}\n'
        '{"id": "c", "prompt": "and this?", "attachments": ["missing.png"]}\n'
        '{"id": "d", "prompt": "x", "attachments": "dot.png"}\n'
    )
    out = tmp_path / "out.jsonl"
    result = fleet.run("batch", str(src), "-o", str(out), "--model", "alpha/fake-chat")
    assert result.returncode == 10, result.stderr
    lines = {line["id"]: line for line in read_output(out)}
    assert (
        lines["a"]["ok"]
        and f"I see an image (image/png, {len(PNG)} bytes)" in (lines["a"]["answer"])
    )
    assert lines["b"]["ok"] and lines["b"]["answer"] == "Hello from fake"
    assert not lines["c"]["ok"] and "missing.png" in lines["c"]["error"]["message"]
    assert lines["c"]["error"]["exit_code"] == 2
    assert '"attachments" must be a non-empty list' in lines["d"]["error"]["message"]
    chats = [r for r in fleet.alpha.requests if r.path.endswith("/chat/completions")]
    with_image = [r for r in chats if isinstance(r.body["messages"][-1]["content"], list)]
    assert len(with_image) == 1
    parts = with_image[0].body["messages"][-1]["content"]
    assert parts[0] == {"type": "text", "text": "what is this?"}
    assert parts[1]["type"] == "image_url"
