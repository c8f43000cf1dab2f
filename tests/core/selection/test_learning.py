"""Quality that learns (core/selection/learning.py): the posterior's arithmetic, the
per-prompt estimate, the --prefer knob and the snapshot, on a real SQLite store."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from jarvis_cli.core.runs.outcomes import import_lines, parse_import, record
from jarvis_cli.core.selection import learning
from jarvis_cli.core.selection.learning import load_learned
from jarvis_cli.core.selection.prompt_terms import (
    TermIndex,
    decode_terms,
    encode_terms,
    prompt_terms,
)
from jarvis_cli.core.selection.quality import Quality
from jarvis_cli.core.selection.tradeoff import prefer_totals
from jarvis_cli.core.store.database import Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(tmp_path / "data" / "jarvis.db")


def est(learned: learning.LearnedOutcomes, ids: list[str], priors: list[Quality], task: str,
        prompt: str | None) -> tuple[list[float], list[learning.Learned | None]]:  # fmt: skip
    column = learned.estimate(list(range(len(ids))), ids, priors, task, prompt)
    values = [q.value for q in column.qualities]
    return values, [column.detail(j, values[j]) for j in range(len(ids))]


PRIOR = Quality(0.5, "livebench 2026-06-25", "x/a")
UNSCORED = Quality(0.3, "none")


def test_a_store_without_outcomes_learns_nothing(store: Store) -> None:
    assert load_learned(store.conn) is None
    record(store, request_id="r1", model_id="x/a", score=1, source="rate", prompt=None,
           keep_prompt=True)  # fmt: skip
    store.conn.execute("DELETE FROM outcomes")  # outside jarvis: the trigger still bumps
    assert load_learned(store.conn) is None


def test_the_posterior_takes_the_prior_as_ten_outcomes_and_the_task_borrows_from_the_model(
    store: Store,
) -> None:
    lines = [
        f'{{"prompt": "p{i}", "model": "x/a", "score": 1, "task": "coding"}}' for i in range(10)
    ]
    import_lines(store, parse_import(lines, "f"), keep_prompt=False)
    learned = load_learned(store.conn)
    assert learned is not None
    (q,), (detail,) = est(learned, ["x/a"], [PRIOR], "coding", None)
    model_level = (0.5 * 10 + 10) / (10 + 10)  # 0.75
    expected = (model_level * learning.TASK_PRIOR + 10) / (learning.TASK_PRIOR + 10)
    assert math.isclose(q, expected)
    assert detail is not None and (detail.task_score, detail.task_n) == (1.0, 10)
    assert detail.describe() == "you: 1.00, n=10; prior 0.50 (livebench 2026-06-25)"
    # another task: the model-level posterior, and "you" says what the model scored
    (other,), (d2,) = est(learned, ["x/a"], [PRIOR], "math", None)
    assert math.isclose(other, model_level) and d2 is not None and d2.task_n == 10
    # a model without outcomes keeps its prior exactly
    (same,), (none,) = est(learned, ["x/b"], [UNSCORED], "coding", None)
    assert same == UNSCORED.value and none is None


def test_an_unscored_prior_weighs_two_outcomes(store: Store) -> None:
    record(store, request_id="r", model_id="x/a", score=1.0, source="rate", prompt=None,
           keep_prompt=False, task="general")  # fmt: skip
    learned = load_learned(store.conn)
    assert learned is not None
    (q,), _ = est(learned, ["x/a"], [UNSCORED], "general", None)
    model_level = (0.3 * 2 + 1) / 3
    assert math.isclose(q, (model_level * learning.TASK_PRIOR + 1) / (learning.TASK_PRIOR + 1))


# x/a's bundled priors by task: strong at mathematics, weaker at language
BY_TASK = {"mathematics": 0.8, "language": 0.6, "coding": 0.7}
MATH, LANGUAGE = (
    Quality(0.8, "livebench 2026-06-25", "x/a"),
    Quality(0.6, "livebench 2026-06-25", "x/a"),
)


def by_task(j: int, task: str) -> float | None:
    return BY_TASK[task]


def test_outcomes_on_another_task_carry_over_as_residuals_from_its_prior(store: Store) -> None:
    lines = [
        f'{{"prompt": "p{i}", "model": "x/a", "score": 1, "task": "mathematics"}}'
        for i in range(40)
    ]
    import_lines(store, parse_import(lines, "f"), keep_prompt=False)
    learned = load_learned(store.conn)
    assert learned is not None
    column = learned.estimate([0], ["x/a"], [LANGUAGE], "language", None, by_task)
    (q,) = [x.value for x in column.qualities]
    # each maths outcome counts as 0.6 + (1 - 0.8): 0.2 above the prior, not 1.0
    assert math.isclose(q, (0.6 * 10 + 40 * (1 + 0.6 - 0.8)) / (10 + 40))  # 0.76
    raw = (0.6 * 10 + 40) / 50  # 0.92: a maths score read as a language one
    (unshifted,), _ = est(learned, ["x/a"], [LANGUAGE], "language", None)
    assert math.isclose(unshifted, raw) and q < raw - 0.15
    detail = column.detail(0, q)
    assert detail is not None and not detail.task_own and detail.other_prior == 0.8
    assert detail.as_dict()["other_tasks_prior"] == 0.8
    # on its own task nothing changes: there are no other tasks to re-express
    column = learned.estimate([0], ["x/a"], [MATH], "mathematics", None, by_task)
    (own,) = [x.value for x in column.qualities]
    (plain,), _ = est(learned, ["x/a"], [MATH], "mathematics", None)
    own_detail = column.detail(0, own)
    assert math.isclose(own, plain) and own_detail is not None and own_detail.other_prior is None


def test_bad_outcomes_on_one_task_lower_another_by_the_residual_only(store: Store) -> None:
    lines = [
        f'{{"prompt": "p{i}", "model": "x/a", "score": 0.7, "task": "mathematics"}}'
        for i in range(30)
    ] + [f'{{"prompt": "c{i}", "model": "x/a", "score": 0.9, "task": "coding"}}' for i in range(10)]
    import_lines(store, parse_import(lines, "f"), keep_prompt=False)
    learned = load_learned(store.conn)
    assert learned is not None
    coding = Quality(0.7, "livebench 2026-06-25", "x/a")
    column = learned.estimate([0], ["x/a"], [coding], "coding", None, by_task)
    (q,) = [x.value for x in column.qualities]
    # maths 0.1 under its prior pulls the model level 0.1 x 30 down, not to 0.7
    model_level = (0.7 * 10 + 9 + 30 * (0.7 + 0.7 - 0.8)) / (10 + 40)
    assert math.isclose(q, (model_level * learning.TASK_PRIOR + 9) / (learning.TASK_PRIOR + 10))
    # a prior that is the same on every task (user, config, default): nothing to shift
    user = Quality(0.7, "user")
    column = learned.estimate([0], ["x/a"], [user], "coding", None, lambda j, t: None)
    (u,) = [x.value for x in column.qualities]
    assert math.isclose(u, est(learned, ["x/a"], [user], "coding", None)[0][0])


def test_similar_prompts_move_one_prompt_and_not_another(store: Store) -> None:
    lines = []
    for i in range(6):
        lines.append(
            f'{{"prompt": "translate this French sentence {i} into English",'
            ' "model": "x/a", "score": 0}'
        )
        lines.append(
            f'{{"prompt": "sort the list {i} in python quickly", "model": "x/a", "score": 1}}'
        )
    import_lines(store, parse_import(lines, "f"), keep_prompt=True)
    learned = load_learned(store.conn)
    assert learned is not None
    (fr,), (dfr,) = est(learned, ["x/a"], [PRIOR], "general", "translate this French sentence")
    (py,), (dpy,) = est(learned, ["x/a"], [PRIOR], "general", "sort the list in python")
    assert dfr is not None and dfr.similar_score == 0.0 and dfr.similar_k >= 3
    assert dpy is not None and dpy.similar_score == 1.0
    assert fr < 0.5 < py
    assert "similar prompts: 0.00, k=" in dfr.describe()


def test_without_the_content_log_there_is_no_per_prompt_estimate(store: Store) -> None:
    lines = [f'{{"prompt": "sort the list {i}", "model": "x/a", "score": 1}}' for i in range(6)]
    import_lines(store, parse_import(lines, "f"), keep_prompt=False)
    assert store.conn.execute("SELECT count(*) FROM outcomes WHERE prompt IS NOT NULL "
                              "OR terms IS NOT NULL").fetchone() == (0,)  # fmt: skip
    learned = load_learned(store.conn)
    assert learned is not None and learned.prompts() is None
    _, (d,) = est(learned, ["x/a"], [PRIOR], "general", "sort the list")
    assert d is not None and d.similar_score is None


def test_the_snapshot_follows_every_change_and_a_damaged_one_is_rebuilt(store: Store) -> None:
    record(store, request_id="r", model_id="x/a", score=0.0, source="rate", prompt=None,
           keep_prompt=False, task="general")  # fmt: skip
    first = load_learned(store.conn)
    assert first is not None and first.task_sums("general") == {0: (0.0, 1.0, 1)}
    record(store, request_id="r", model_id="x/a", score=1.0, source="rate", prompt=None,
           keep_prompt=False, task="general")  # fmt: skip  # the same request: replaced
    again = load_learned(store.conn)
    assert again is not None and again.task_sums("general") == {0: (1.0, 1.0, 1)}
    with store.write() as conn:
        conn.execute("UPDATE snapshots SET data = ? WHERE name LIKE 'learned%'", (b"junk",))
    rebuilt = load_learned(store.conn)
    assert rebuilt is not None and rebuilt.task_sums("general") == again.task_sums("general")


def test_prefer_runs_from_cheapest_to_most_accurate() -> None:
    q = [0.9, 0.8, 0.5]
    costs: list[float | None] = [1.0, 0.1, 0.01]
    best = lambda totals: max(range(3), key=totals.__getitem__)  # noqa: E731
    assert best(prefer_totals(q, costs, 1.0)) == 0
    assert best(prefer_totals(q, costs, 0.0)) == 2
    assert best(prefer_totals(q, costs, 0.5)) == 1  # lambda 1: -0.1 of quality for 10x
    assert prefer_totals(q, [None, None, None], 0.3) == q  # no price known: quality


def test_prompt_terms_are_stable_hashes_that_round_trip() -> None:
    terms = prompt_terms("Add 2 and 2, then add 2!")
    assert sum(terms.values()) == 9 and len(terms) == 6  # add 2 and , then !
    assert decode_terms(encode_terms(terms)) == terms
    assert prompt_terms("ADD 2") == prompt_terms("add 2")
    index = TermIndex.build([prompt_terms("the cat sat"), prompt_terms("stock prices fell")])
    ((doc, sim),) = index.nearest(prompt_terms("a cat sat down"), 5, 0.1)
    assert doc == 0 and 0.1 < sim <= 1.0


def test_pruning_the_log_prunes_outcomes_and_what_was_learnt(store: Store) -> None:
    from jarvis_cli.core.runs.log_prune import prune_log
    from jarvis_cli.core.store.config import Budgets

    now = 1_000_000_000.0
    record(store, request_id="old", model_id="x/a", score=0.0, source="rate", prompt="hi",
           keep_prompt=True, at=now - 10 * 86_400)  # fmt: skip
    record(store, request_id="new", model_id="x/b", score=1.0, source="rate", prompt="hi",
           keep_prompt=True, at=now - 60)  # fmt: skip
    prune_log(store, Budgets(), older_than_s=86_400, now=now)
    learned = load_learned(store.conn)
    assert learned is not None and learned.models == ["x/b"]


def test_a_kept_cache_is_reused_until_the_outcomes_change(store: Store) -> None:
    """The engine keeps the loaded outcomes between selections (warm selection reuses
    the per-task sums and the prompt index); any change replaces them."""
    cache: dict[str, learning.LearnedOutcomes | None] = {}
    lines = [f'{{"prompt": "sort the list {i}", "model": "x/a", "score": 1}}' for i in range(6)]
    import_lines(store, parse_import(lines, "f"), keep_prompt=True)
    first = load_learned(store.conn, cache)
    assert first is not None and load_learned(store.conn, cache) is first
    (before,), (d,) = est(first, ["x/a"], [PRIOR], "general", "sort the list")
    assert d is not None and d.similar_score == 1.0 and before > 0.5
    bad = [f'{{"prompt": "sort the list {i}", "model": "x/a", "score": 0}}' for i in range(30)]
    import_lines(store, parse_import(bad, "f"), keep_prompt=True)
    second = load_learned(store.conn, cache)
    assert second is not None and second is not first and len(cache) == 1
    (after,), (d2,) = est(second, ["x/a"], [PRIOR], "general", "sort the list")
    assert d2 is not None and d2.task_n == 36 and after < before
    store.conn.execute("DELETE FROM outcomes")  # outside jarvis: the trigger still bumps
    assert load_learned(store.conn, cache) is None
