"""Budgets: spend from recorded calls against [budgets] limits and --max-cost."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from jarvis_cli.core.errors import BudgetExceededError, ExitCode
from jarvis_cli.core.runs.budget import budget_status, check_budget, period_start, spend_since
from jarvis_cli.core.store.config import BudgetLimits, Budgets
from jarvis_cli.core.store.database import Store

NOW = datetime(2026, 11, 28, 15, 30, tzinfo=UTC).timestamp()


@pytest.fixture
def store(home: Path) -> Store:
    return Store.open(home / "jarvis.db")


def add_call(store: Store, provider: str, cost: float | None, at: float = NOW - 60) -> None:
    with store.write() as conn:
        conn.execute(
            "INSERT INTO calls(request_id, at, model_id, provider, kind, attempt, ok, cost_usd)"
            " VALUES ('r', ?, ?, ?, 'chat', 1, 1, ?)",
            (at, f"{provider}/m", provider, cost),
        )


def test_periods_are_utc_calendar_day_and_month() -> None:
    assert period_start("daily", NOW) == datetime(2026, 11, 28, tzinfo=UTC).timestamp()
    assert period_start("monthly", NOW) == datetime(2026, 11, 1, tzinfo=UTC).timestamp()


def test_spend_counts_only_the_period_and_provider(store: Store) -> None:
    add_call(store, "openai", 0.50)
    add_call(store, "groq", 0.25)
    add_call(store, "openai", 9.0, at=NOW - 2 * 86_400)  # two days ago
    add_call(store, "openai", None)  # unknown cost adds nothing
    today = period_start("daily", NOW)
    assert spend_since(store.conn, today) == pytest.approx(0.75)
    assert spend_since(store.conn, today, "openai") == pytest.approx(0.50)
    assert spend_since(store.conn, period_start("monthly", NOW)) == pytest.approx(9.75)


def test_no_budgets_means_no_check(store: Store) -> None:
    add_call(store, "openai", 1000.0)
    warnings = check_budget(
        store.conn,
        Budgets(),
        provider="openai",
        model_id="openai/m",
        estimated_cost_usd=1.0,
        now=NOW,
    )
    assert warnings == []


def test_max_cost_refuses_an_expensive_request(store: Store) -> None:
    with pytest.raises(BudgetExceededError) as info:
        check_budget(
            store.conn,
            Budgets(),
            provider="openai",
            model_id="openai/big",
            estimated_cost_usd=0.02,
            max_cost_usd=0.01,
            now=NOW,
        )
    assert info.value.exit_code == ExitCode.BUDGET
    assert "openai/big: estimated cost $0.020000 exceeds --max-cost $0.010000" in str(info.value)


def test_daily_budget_names_spend_and_limit(store: Store) -> None:
    add_call(store, "openai", 0.90)
    budgets = Budgets(daily_usd=1.0)
    assert (
        check_budget(
            store.conn,
            budgets,
            provider="openai",
            model_id="openai/m",
            estimated_cost_usd=0.05,
            now=NOW,
        )
        == []
    )
    with pytest.raises(BudgetExceededError) as info:
        check_budget(
            store.conn,
            budgets,
            provider="openai",
            model_id="openai/m",
            estimated_cost_usd=0.2,
            now=NOW,
        )
    message = str(info.value)
    assert "daily total budget exceeded" in message
    assert "spent $0.9000" in message and "limit $1.0000" in message


def test_provider_budget_only_applies_to_that_provider(store: Store) -> None:
    add_call(store, "openai", 5.0)
    budgets = Budgets(providers={"openai": BudgetLimits(monthly_usd=5.0)})
    with pytest.raises(BudgetExceededError, match="monthly openai budget exceeded"):
        check_budget(
            store.conn,
            budgets,
            provider="openai",
            model_id="openai/m",
            estimated_cost_usd=0.01,
            now=NOW,
        )
    check_budget(
        store.conn, budgets, provider="groq", model_id="groq/m", estimated_cost_usd=0.01, now=NOW
    )


def test_unknown_price_is_counted_as_zero_with_a_warning(store: Store) -> None:
    warnings = check_budget(
        store.conn,
        Budgets(daily_usd=1.0),
        provider="local",
        model_id="local/llama",
        estimated_cost_usd=None,
        now=NOW,
    )
    assert warnings == [
        "price of local/llama is unknown; the budget check counts this request as $0"
    ]


def test_budget_status_lists_every_limit(store: Store) -> None:
    add_call(store, "openai", 0.5)
    budgets = Budgets(daily_usd=2.0, providers={"openai": BudgetLimits(daily_usd=1.0)})
    statuses = budget_status(store.conn, budgets, now=NOW)
    assert [(s.scope, s.period, s.limit_usd, s.spent_usd) for s in statuses] == [
        ("all", "daily", 2.0, 0.5),
        ("openai", "daily", 1.0, 0.5),
    ]
    assert statuses[1].remaining_usd == pytest.approx(0.5)
