"""`jarvis select`'s output for humans: the candidate table, the legend of its marks,
the chosen model with its confidence and fallbacks, the reasoning and, with
--explain, the formula, the sub-scores, what outcomes taught and the exclusions.

Split from select.py (the command and its options), which was near 400 lines.
"""

from collections import defaultdict
from typing import TYPE_CHECKING

from jarvis_cli.cli import render, tables

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from jarvis_cli.core.selection.cost import RequestCost
    from jarvis_cli.core.selection.types import Exclusion, ScoredCandidate, SelectionResult

TOP_ROWS = 10  # candidates shown in the table (--json has them all)
EXPLAIN_PER_REASON = 5  # excluded models listed per reason with --explain


def _usd(value: float | None) -> str:
    """A cost with a fixed number of decimals, so that a column of them lines up."""
    if value is None:
        return "unknown"
    if not value:
        return "$0"
    return f"${value:.6f}" if value >= 0.000001 else f"${value:.1e}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _latency(c: "ScoredCandidate") -> str:
    """Expected latency and where it comes from: `3.6s prior`, `0.8s meas`."""
    return f"{c.expected_latency_ms / 1000:.1f}s {'meas' if c.latency_measured else 'prior'}"


def _candidate_columns(
    show_usable: bool, speed_decides: bool = False
) -> "list[tuple[tables.Column, Callable[[ScoredCandidate], object]]]":
    """The selection table's columns, each with its cell. Priority 0 is always shown;
    higher numbers are hidden first on a narrow terminal (`--wide` shows every one)."""
    from jarvis_cli.cli.select_quality import quality_cell
    from jarvis_cli.cli.tables import ID, NUM, Column

    columns: list[tuple[Column, Callable[[ScoredCandidate], object]]] = [
        (Column("model", ID), _model_cell),
        (Column("quality"), quality_cell),
        (Column("est. cost", NUM), lambda c: _usd(c.estimated_cost_usd)),
        # the deciding figure of `performance` and --max-latency: then always shown
        (Column("latency", NUM, priority=0 if speed_decides else 2), _latency),
        (Column("calls", NUM, priority=3), lambda c: c.metrics.calls),
        (Column("perf", NUM, priority=4), lambda c: f"{c.scores.performance:.2f}"),
        (Column("cost", NUM, priority=4), lambda c: f"{c.scores.cost:.2f}"),
        (Column("rel", NUM, priority=4), lambda c: f"{c.scores.reliability:.2f}"),
        (Column("total", NUM, priority=1), lambda c: f"{c.total:.3f}"),
    ]
    if show_usable:
        columns.insert(1, (Column("usable"), lambda c: "yes" if c.usable else "no"))
    return columns


def _model_cell(c: "ScoredCandidate") -> str:
    name = c.model.id
    if c.versions > 1:
        extra = c.versions - 1
        name += f" (+{extra} version{'s' if extra > 1 else ''})"
    if c.type_assumed:
        name += " (type assumed)"
    return name


def render_human(
    result: "SelectionResult",
    *,
    show_usable: bool,
    explain: bool,
    wide: bool,
    costs: "Mapping[str, RequestCost]",
) -> None:
    from jarvis_cli.cli.tables import NUM, Column
    from jarvis_cli.core.selection.quality import LEGEND

    shown = result.candidates[:TOP_ROWS]
    speed_decides = result.strategy == "performance" or result.weights.performance >= 0.5
    columns = _candidate_columns(show_usable, speed_decides)
    tables.table(
        [Column("#", NUM), *(col for col, _ in columns)],
        [[i + 1, *(cell(c) for _, cell in columns)] for i, c in enumerate(shown)],
        title=f"{result.strategy} strategy, task {result.task.category} "
        f"({result.task.rule}): top {len(shown)} of {len(result.candidates)} candidates",
        highlight_row=0,
        wide=wide,
    )
    out = render.console()
    out.print(LEGEND, markup=False, style="dim")
    if explain:
        render.line(f"score = {formula(result)}")
        _render_scores(shown, wide=wide)
    render.line(f"chosen: {result.model_id} (confidence {result.confidence:.2f})")
    chosen = costs.get(result.model_id)
    if explain and chosen is not None:
        render.line(
            f"cost: expected {_usd(chosen.expected_cost_usd)} ({chosen.expected_input} in + "
            f"{chosen.expected_output} out), at most {_usd(chosen.max_cost_usd)} "
            f"({chosen.input_bound} in + {chosen.output_bound} out): {chosen.describe()}"
        )
        render.line(f"expected output: {chosen.describe_expected_output()}")
    render.line(f"fallbacks: {', '.join(result.fallbacks) or '(none)'}")
    render.line(f"reasoning: {result.reasoning}")
    if explain:
        from jarvis_cli.cli.select_quality import learned_lines

        for text in learned_lines(result.candidates[:TOP_ROWS]):
            render.line(text)
        render_excluded(result.excluded)
    elif result.excluded:
        render.line(f"{len(result.excluded)} models excluded (--explain lists them)")


def _render_scores(shown: "Sequence[ScoredCandidate]", *, wide: bool) -> None:
    """--explain: every candidate's sub-scores (0..1, higher is better) and total."""
    from jarvis_cli.cli.tables import ID, NUM, Column

    tables.table(
        [Column("#", NUM), Column("model", ID)]
        + [Column(name, NUM) for name in ("quality", "cost", "perf", "rel", "total")],
        [
            [
                i + 1,
                c.model.id,
                f"{c.scores.quality:.2f}",
                f"{c.scores.cost:.2f}",
                f"{c.scores.performance:.2f}",
                f"{c.scores.reliability:.2f}",
                f"{c.total:.3f}",
            ]
            for i, c in enumerate(shown)
        ],
        title="sub-scores (0..1, higher is better):",
        wide=wide,
    )


def formula(result: "SelectionResult") -> str:
    """The strategy's total as a sum of weighted sub-scores, for --explain."""
    w = result.weights.as_dict()
    terms = " + ".join(f"{v:.2f} x {k}" for k, v in w.items() if v)
    return (
        f"{terms}; quality = absolute 0..1 score for task {result.task.category}, cost = "
        "log-scale rank of the estimated cost among the candidates (1 = cheapest), "
        "performance = same for the expected latency (measured, else the size-class prior), "
        "reliability = smoothed success rate rank"
    )


def render_excluded(excluded: "Sequence[Exclusion]", *, stderr: bool = False) -> None:
    emit = render.message if stderr else render.line
    groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for e in excluded:
        groups[e.code].append((e.model_id, e.reason))
    emit(f"excluded ({len(excluded)}):")
    for code, items in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        emit(f"  {code.replace('_', ' ')} ({len(items)}):")
        for model_id, reason in items[:EXPLAIN_PER_REASON]:
            emit(f"    {model_id}: {reason}")
        if len(items) > EXPLAIN_PER_REASON:
            emit(f"    ... and {len(items) - EXPLAIN_PER_REASON} more")
