"""Budgets: spend from recorded calls against [budgets] limits and --max-cost."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest

from jarvis_cli.core.context import Context
from jarvis_cli.core.errors import BudgetExceededError, ExitCode
from jarvis_cli.core.runs.attempts import Attempt, record_attempt
from jarvis_cli.core.runs.budget import (
    budget_status,
    check_budget,
    period_start,
    release,
    reserve,
    spend_since,
)
from jarvis_cli.core.store.config import BudgetLimits, Budgets
from jarvis_cli.core.store.connection import StoreHandle

NOW = datetime(2026, 11, 28, 15, 30, tzinfo=UTC).timestamp()


@pytest.fixture
def store(store_backend: str) -> StoreHandle:
    """The store jarvis would open: the SQLite file, or the PostgreSQL team store."""
    return Context().store


def add_call(store: StoreHandle, provider: str, cost: float | None, at: float = NOW - 60) -> None:
    with store.write() as conn:
        conn.execute(
            "INSERT INTO calls(request_id, at, model_id, provider, kind, attempt, ok, cost_usd)"
            " VALUES ('r', ?, ?, ?, 'chat', 1, 1, ?)",
            (at, f"{provider}/m", provider, cost),
        )


def test_periods_are_utc_calendar_day_and_month() -> None:
    assert period_start("daily", NOW) == datetime(2026, 11, 28, tzinfo=UTC).timestamp()
    assert period_start("monthly", NOW) == datetime(2026, 11, 1, tzinfo=UTC).timestamp()


def test_spend_counts_only_the_period_and_provider(store: StoreHandle) -> None:
    add_call(store, "openai", 0.50)
    add_call(store, "groq", 0.25)
    add_call(store, "openai", 9.0, at=NOW - 2 * 86_400)  # two days ago
    add_call(store, "openai", None)  # unknown cost adds nothing
    today = period_start("daily", NOW)
    assert spend_since(store.conn, today) == pytest.approx(0.75)
    assert spend_since(store.conn, today, "openai") == pytest.approx(0.50)
    assert spend_since(store.conn, period_start("monthly", NOW)) == pytest.approx(9.75)


def test_no_budgets_means_no_check(store: StoreHandle) -> None:
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


def test_max_cost_refuses_an_expensive_request(store: StoreHandle) -> None:
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
    assert (
        "openai/big: cost bound $0.020000 (the most the provider can bill for this request)"
        " exceeds --max-cost $0.010000" in str(info.value)
    )


def test_daily_budget_names_spend_and_limit(store: StoreHandle) -> None:
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


def test_provider_budget_only_applies_to_that_provider(store: StoreHandle) -> None:
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


def test_unknown_price_is_counted_as_zero_with_a_warning(store: StoreHandle) -> None:
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


def test_budget_status_lists_every_limit(store: StoreHandle) -> None:
    add_call(store, "openai", 0.5)
    budgets = Budgets(daily_usd=2.0, providers={"openai": BudgetLimits(daily_usd=1.0)})
    statuses = budget_status(store.conn, budgets, now=NOW)
    assert [(s.scope, s.period, s.limit_usd, s.spent_usd) for s in statuses] == [
        ("all", "daily", 2.0, 0.5),
        ("openai", "daily", 1.0, 0.5),
    ]
    assert statuses[1].remaining_usd == pytest.approx(0.5)


# --- reservations -----------------------------------------------------------------


def reservations(store: StoreHandle) -> list[tuple[str, float, float]]:
    rows = store.conn.execute(
        "SELECT provider, amount_usd, expires_at FROM budget_reservations ORDER BY created_at"
    )
    return [(str(r[0]), float(r[1]), float(r[2])) for r in rows]


def test_reserve_holds_the_estimate_until_it_expires(store: StoreHandle) -> None:
    budgets = Budgets(daily_usd=1.0)
    held, warnings = reserve(
        store,
        budgets,
        provider="openai",
        model_id="openai/m",
        estimated_cost_usd=0.4,
        ttl_s=120,
        now=NOW,
    )
    assert held is not None and warnings == []
    assert reservations(store) == [("openai", 0.4, NOW + 120)]
    (status,) = budget_status(store.conn, budgets, now=NOW)
    assert (status.spent_usd, status.reserved_usd) == (0.0, 0.4)
    assert status.remaining_usd == pytest.approx(0.6)
    # A second request that would fit the spend alone, but not spend + reservation:
    with pytest.raises(BudgetExceededError) as info:
        reserve(
            store,
            budgets,
            provider="groq",
            model_id="groq/m",
            estimated_cost_usd=0.7,
            ttl_s=120,
            now=NOW + 1,
        )
    assert info.value.exit_code == ExitCode.BUDGET
    assert "+ $0.4000 reserved by requests in flight" in str(info.value)
    # Once the first has expired (its process died), the budget is free again and the
    # stale row is deleted by the next reservation.
    later, _ = reserve(
        store,
        budgets,
        provider="groq",
        model_id="groq/m",
        estimated_cost_usd=0.7,
        ttl_s=120,
        now=NOW + 121,
    )
    assert later is not None
    assert reservations(store) == [("groq", 0.7, NOW + 241)]


def test_settling_replaces_the_reservation_with_the_actual_cost(store: StoreHandle) -> None:
    budgets = Budgets(daily_usd=1.0)
    held, _ = reserve(
        store,
        budgets,
        provider="openai",
        model_id="openai/m",
        estimated_cost_usd=0.9,
        ttl_s=120,
        now=NOW,
    )
    attempt = Attempt(
        model_id="openai/m", provider="openai", kind="chat", attempt=1, ok=True, at=NOW,
        cost_usd=0.1,
    )  # fmt: skip
    record_attempt(store, "req", attempt, settle=held)
    assert reservations(store) == []
    (status,) = budget_status(store.conn, budgets, now=NOW + 1)
    assert (status.spent_usd, status.reserved_usd) == (pytest.approx(0.1), 0.0)


def test_release_drops_an_unsettled_reservation(store: StoreHandle) -> None:
    held, _ = reserve(
        store,
        Budgets(monthly_usd=5.0),
        provider="openai",
        model_id="openai/m",
        estimated_cost_usd=1.0,
        ttl_s=60,
        now=NOW,
    )
    release(store, held)
    release(store, None)  # nothing held: nothing to do
    assert reservations(store) == []


def test_no_limit_for_the_provider_reserves_nothing(store: StoreHandle) -> None:
    budgets = Budgets(providers={"openai": BudgetLimits(daily_usd=1.0)})
    held, _ = reserve(
        store,
        budgets,
        provider="groq",
        model_id="groq/m",
        estimated_cost_usd=0.5,
        ttl_s=60,
        now=NOW,
    )
    assert held is None and reservations(store) == []
    # --max-cost still refuses without any [budgets] limit.
    with pytest.raises(BudgetExceededError, match="exceeds --max-cost"):
        reserve(
            store,
            Budgets(),
            provider="groq",
            model_id="groq/m",
            estimated_cost_usd=0.5,
            max_cost_usd=0.1,
            ttl_s=60,
            now=NOW,
        )


def test_unknown_price_reserves_nothing_and_warns(store: StoreHandle) -> None:
    held, warnings = reserve(
        store,
        Budgets(daily_usd=1.0),
        provider="local",
        model_id="local/llama",
        estimated_cost_usd=None,
        ttl_s=60,
        now=NOW,
    )
    assert held is None and reservations(store) == []
    assert warnings == [
        "price of local/llama is unknown; the budget check counts this request as $0"
    ]


_RESERVER = """
import sys, time
from pathlib import Path
from jarvis_cli.core.errors import BudgetExceededError
from jarvis_cli.core.runs.budget import reserve
from jarvis_cli.core.store.config import Budgets
from jarvis_cli.core.context import Context

store = Context().store  # the test's JARVIS_HOME, or JARVIS_STORE_URL's PostgreSQL store
go = float(sys.argv[1])
while time.time() < go:
    time.sleep(0.005)
granted = refused = 0
for _ in range(10):
    try:
        reserve(store, Budgets(daily_usd=1.0), provider="openai", model_id="openai/m",
                estimated_cost_usd=0.03, ttl_s=600)
        granted += 1
    except BudgetExceededError as exc:
        assert "daily total budget exceeded" in str(exc), exc
        refused += 1
print(granted, refused)
"""


def test_concurrent_processes_never_reserve_past_the_limit(store: StoreHandle) -> None:
    # 8 processes x 10 reservations of $0.03 against $1.00: exactly 33 fit.
    store.close()
    go = time.time() + 1.5  # all start reserving at once, after imports
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _RESERVER, str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        granted, refused = map(int, out.split())
        results.append((granted, refused))
    assert sum(g for g, _ in results) == 33
    assert sum(r for _, r in results) == 80 - 33
    check = Context().store
    total = check.conn.execute("SELECT SUM(amount_usd) FROM budget_reservations").fetchone()[0]
    assert total == pytest.approx(0.99)
