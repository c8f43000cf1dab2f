"""Expected output tokens learned from outcomes (core/selection/learned_output.py): the
task / model / default rule, the cap, the pricing, and a store upgraded to migration 15,
on real SQLite stores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jarvis_cli.core.registry.records import ModelRecord
from jarvis_cli.core.runs.outcomes import import_lines, parse_import, record
from jarvis_cli.core.selection.bound import InputShape
from jarvis_cli.core.selection.cost import ExpectedOutput, cost_json, request_cost
from jarvis_cli.core.selection.learned_output import MIN_OUTPUT_SAMPLES
from jarvis_cli.core.selection.learning import load_learned
from jarvis_cli.core.store import database
from jarvis_cli.core.store.database import Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(tmp_path / "data" / "jarvis.db")


def imported(store: Store, *lines: dict[str, object]) -> None:
    import_lines(store, parse_import([json.dumps(x) for x in lines], "f"), keep_prompt=False)


def line(model: str, tokens: int | None, task: str = "general", n: int = 0) -> dict[str, object]:
    out: dict[str, object] = {"prompt": f"p{n}", "model": model, "score": 1, "task": task}
    if tokens is not None:
        out["output_tokens"] = tokens
    return out


def test_the_task_mean_needs_five_figures_else_the_model_mean_else_none(store: Store) -> None:
    assert MIN_OUTPUT_SAMPLES == 5
    imported(
        store,
        *[line("x/a", 100 + i, "coding", i) for i in range(5)],  # 5 for coding: its mean
        *[line("x/a", 1000, "general", i) for i in range(4)],  # 4 for general: too few
        *[line("x/b", 10, "coding", i) for i in range(4)],  # 4 in all: too few anywhere
        *[line("x/b", None, "coding", 10 + i) for i in range(3)],  # no figure: not counted
    )
    learned = load_learned(store.conn)
    assert learned is not None
    coding = learned.outputs.for_task("coding")
    assert coding == {"x/a": ExpectedOutput(102, 5, "coding")}
    # general has 4 figures: the model's 9 over all tasks, (510 + 4000) / 9 = 501.1
    assert learned.outputs.for_task("general") == {"x/a": ExpectedOutput(501, 9, None)}
    assert learned.outputs.for_task("creative") == {"x/a": ExpectedOutput(501, 9, None)}
    assert learned.outputs.for_task("coding") is coding  # kept per task


def test_a_rating_keeps_its_figure_and_ratings_alone_can_teach(store: Store) -> None:
    for i in range(5):
        record(store, request_id=f"r{i}", model_id="x/a", score=1.0, source="rate",
               prompt=None, keep_prompt=False, task="general", output_tokens=20 * i)  # fmt: skip
    learned = load_learned(store.conn)
    assert learned is not None
    assert learned.outputs.for_task("general") == {"x/a": ExpectedOutput(40, 5, "general")}


MODEL = ModelRecord("x/a", "x", "a", "chat", input_cost_per_mtok=1.0, output_cost_per_mtok=2.0)


def test_request_cost_prices_the_learned_output_within_the_limit_and_keeps_the_bound() -> None:
    shape = InputShape.of(["hello there"])
    default = request_cost(MODEL, shape, None, output_tokens=1024, heuristic_input=3)
    learned = request_cost(MODEL, shape, None, output_tokens=1024, heuristic_input=3,
                           learned=ExpectedOutput(80, 12, "general"))  # fmt: skip
    assert (default.expected_output, learned.expected_output) == (500, 80)
    assert learned.expected_cost_usd == pytest.approx((3 * 1.0 + 80 * 2.0) / 1e6)
    assert learned.max_cost_usd == default.max_cost_usd  # the bound: the whole limit
    assert default.describe_expected_output() == "500 tokens (default)"
    assert learned.describe_expected_output() == "80 tokens (outcomes for general, n=12)"
    capped = request_cost(MODEL, shape, None, output_tokens=64, heuristic_input=3,
                          learned=ExpectedOutput(80, 12, None))  # fmt: skip
    assert capped.expected_output == 64
    assert capped.describe_expected_output() == (
        "64 tokens (outcomes over all tasks, n=12, mean 80 capped)"
    )
    estimate = cost_json(learned)["cost_estimate"]
    assert (
        estimate["expected_output_source"],
        estimate["expected_output_samples"],
        estimate["expected_output_task"],
    ) == ("outcomes", 12, "general")
    assert cost_json(default)["cost_estimate"]["expected_output_source"] == "default"


def test_a_store_from_before_migration_15_is_upgraded_and_its_outcomes_have_no_figure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "data" / "jarvis.db"
    with monkeypatch.context() as m:  # a jarvis that knew the first 14 migrations
        m.setattr(database, "MIGRATIONS", database.MIGRATIONS[:14])
        m.setattr(database, "SCHEMA_VERSION", 14)
        old = Store.open(path)
        with old.write() as conn:
            conn.execute(
                "INSERT INTO outcomes(at, model_id, task, score, weight, source)"
                " VALUES (1, 'x/a', 'general', 1, 1, 'import')"
            )
        columns = [r[1] for r in old.conn.execute("PRAGMA table_info(outcomes)")]
        assert "output_tokens" not in columns
        old.close()
    store = Store.open(path)
    assert store.schema_version() == 15
    assert store.conn.execute("SELECT output_tokens FROM outcomes").fetchall() == [(None,)]
    learned = load_learned(store.conn)
    assert learned is not None and learned.outputs.for_task("general") == {}
    store.close()
