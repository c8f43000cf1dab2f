"""Priors against measurements on the bundled data (issue 24): quality margins, the
cost strategy's floor, implausible catalog prices and experimental names.

Keys for openai, anthropic and gemini are fake values: selection never sends anything.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import JarvisRunner

REPO = Path(__file__).resolve().parents[2]
KEYS = {
    "OPENAI_API_KEY": "sk-test-openai-000000000000",
    "ANTHROPIC_API_KEY": "sk-ant-test-000000000000",
    "GEMINI_API_KEY": "test-gemini-000000000000",
}
SUMMARIZE = "Summarize the attached design document in five bullet points"  # the README's


def _select(jarvis: JarvisRunner, *args: str, env: dict[str, str] | None = None) -> Any:
    proc = jarvis("select", *args, "--json", "--explain", env=env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_summarize_balanced_pick_is_measured_not_an_equal_but_dearer_prior(
    jarvis: JarvisRunner,
) -> None:
    data = _select(jarvis, SUMMARIZE, env=KEYS)
    pick = data["candidates"][0]
    assert not pick["quality_source"].startswith("family prior"), pick
    assert pick["quality_margin"] <= 0.02  # a measured benchmark score
    by_id = {c["model_id"]: c for c in data["candidates"]}
    rank = {c["model_id"]: c["rank"] for c in data["candidates"]}
    # Every prior-scored candidate ranks behind any measured one that is at least as good
    # and no dearer: an inferred score never wins over an equal measured one at a higher price.
    for c in data["candidates"]:
        if not c["quality_source"].startswith("family prior"):
            continue
        for m in data["candidates"]:
            if (
                m["quality_source"].startswith("livebench")
                and m["quality"] >= c["quality"]
                and (m["estimated_cost_usd"] or 0) <= (c["estimated_cost_usd"] or 0)
                and m["expected_latency_ms"] <= c["expected_latency_ms"]
            ):
                assert rank[m["model_id"]] < rank[c["model_id"]], (m, c)
    flash, latest = by_id["gemini/gemini-3.5-flash"], by_id["gemini/gemini-pro-latest"]
    assert flash["quality_source"].startswith("livebench")
    assert latest["quality_source"].startswith("family prior")
    assert flash["quality_lower"] > latest["quality_lower"]
    assert rank["gemini/gemini-3.5-flash"] < rank["gemini/gemini-pro-latest"]


def test_table_shows_quality_margin_and_speed_source(jarvis: JarvisRunner) -> None:
    proc = jarvis("select", SUMMARIZE, env=KEYS)
    assert proc.returncode == 0, proc.stderr
    assert "0.85±.02 lb" in proc.stdout  # gemini-3.5-flash's measured score
    assert "s prior" in proc.stdout and "latency" in proc.stdout
    assert "±m = uncertainty, ranked on quality-m" in proc.stdout


def test_cost_never_picks_an_unscored_model_unless_min_quality_0(jarvis: JarvisRunner) -> None:
    for args in (("Explain CRDTs", "--all"), ("Refactor this function to be pure", "--all")):
        data = _select(jarvis, *args, "--strategy", "cost")
        assert all(c["quality_source"] != "none" for c in data["candidates"])
        assert all(c["quality"] >= 0.4 for c in data["candidates"])
        pick = data["candidates"][0]
        assert pick["estimated_cost_usd"] is not None and pick["estimated_cost_usd"] > 0
        unrated = [e for e in data["excluded"] if e["reason"].startswith("quality unknown")]
        assert unrated and "--min-quality 0 includes unrated ones" in unrated[0]["reason"]
    opted = _select(jarvis, "Explain CRDTs", "--all", "--strategy", "cost", "--min-quality", "0")
    assert opted["candidates"][0]["quality_source"] == "none"  # the user asked for it
    assert opted["candidates"][0]["estimated_cost_usd"] > 0  # never a $0 bad-data row
    excluded = {e["model_id"]: e for e in opted["excluded"]}
    tev = excluded["together/together/Tev1-4B-experimental"]
    assert tev["code"] == "variant" and tev["reason"].startswith("experimental variant")
    shown = jarvis("models", "show", "together/together/Tev1-4B-experimental", "--json")
    assert json.loads(shown.stdout)["output_cost_per_mtok"] is None  # kept unknown


def test_cost_refusal_when_nothing_rated_says_how_to_opt_out(jarvis: JarvisRunner) -> None:
    proc = jarvis("select", "hi", "--strategy", "cost", "--provider", "together", "--all")
    if proc.returncode == 0:  # together has rated models: the floor applied to them
        data = jarvis(
            "select", "hi", "--strategy", "cost", "--provider", "together", "--all", "--json"
        )
        assert all(c["quality_source"] != "none" for c in json.loads(data.stdout)["candidates"])
        return
    assert proc.returncode == 6
    assert "-> --min-quality 0" in proc.stderr


def test_build_script_flags_a_zero_output_price_and_keeps_it_unknown(tmp_path: Path) -> None:
    prices = {
        "together_ai/together/Tev1-4B-experimental": {
            "litellm_provider": "together_ai", "mode": "chat", "max_input_tokens": 32768,
            "input_cost_per_token": 4.2e-08, "output_cost_per_token": 0.0,
        },
        "together_ai/Qwen/Qwen2-1.5B-Instruct": {
            "litellm_provider": "together_ai", "mode": "chat", "max_input_tokens": 32768,
            "input_cost_per_token": 1e-08, "output_cost_per_token": 2e-08,
        },
        "together_ai/some-embedder": {
            "litellm_provider": "together_ai", "mode": "embedding", "max_input_tokens": 512,
            "input_cost_per_token": 1e-08, "output_cost_per_token": 0.0,
        },
    }  # fmt: skip
    (tmp_path / "prices.json").write_text(json.dumps(prices))
    (tmp_path / "md.json").write_text(json.dumps({"models": {}}))
    code = (
        "import sys; sys.path.insert(0, 'scripts'); import build_catalog as b; from pathlib "
        "import Path; print(b.build(Path(sys.argv[1]), Path(sys.argv[2]), report=True))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "prices.json"), str(tmp_path / "md.json")],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    report, _, doc = proc.stdout.partition("{")
    assert "implausible prices, kept unknown: 1" in report
    assert (
        "  together/together/Tev1-4B-experimental: output price $0 next to input price "
        "$0.042/Mtok" in report
    )
    rows = {row[0] + "/" + row[1]: row for row in json.loads("{" + doc)["models"]}
    tev, qwen = (
        rows["together/together/Tev1-4B-experimental"],
        rows["together/Qwen/Qwen2-1.5B-Instruct"],
    )
    assert tev[5:7] == [None, None] and qwen[5:7] == [0.01, 0.02]  # USD per Mtok
    assert "some-embedder" not in report  # an embedding model has no output to price
