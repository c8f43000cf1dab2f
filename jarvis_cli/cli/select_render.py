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
    """Expected latency and where it comes from: `3.6s prior`, `850ms meas` (under a
    second in ms: a fast measured model read "0.0s")."""
    ms = c.expected_latency_ms
    figure = f"{ms:.0f}ms" if ms < 999.5 else f"{ms / 1000:.1f}s"
    return f"{figure} {'meas' if c.latency_measured else 'prior'}"


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
    from jarvis_cli.cli.select_quality import legend
    from jarvis_cli.cli.tables import NUM, Column

    shown = result.candidates[:TOP_ROWS]
    speed_decides = result.strategy == "performance" or result.weights.performance >= 0.5
    columns = _candidate_columns(show_usable, speed_decides)
    lay = tables.table(
        [Column("#", NUM), *(col for col, _ in columns)],
        [[i + 1, *(cell(c) for _, cell in columns)] for i, c in enumerate(shown)],
        title=f"{result.strategy} strategy, task {result.task.category}: "
        f"top {len(shown)} of {len(result.candidates)} candidates",
        highlight_row=0,
        wide=wide,
    )
    out = render.console()
    latency_shown = lay is None or "latency" not in lay.hidden
    out.print(legend(shown, latency=latency_shown), markup=False, style="dim")
    render.line(task_line(result.task.category, result.task.rule))
    if explain:
        render.line(f"score = {formula(result)}")
        _render_scores(shown, wide=wide)
    render.line(f"chosen: {result.model_id} ({confidence_text(result)})")
    chosen = costs.get(result.model_id)
    if explain and chosen is not None:
        render.line(
            f"cost: expected {_usd(chosen.expected_cost_usd)} ({chosen.expected_input} in + "
            f"{chosen.expected_output} out), at most {_usd(chosen.max_cost_usd)} "
            f"({chosen.input_bound} in + {chosen.output_bound} out): {chosen.describe()}"
        )
        render.line(f"expected output: {chosen.describe_expected_output()}")
    render.line(f"fallbacks: {fallbacks_text(result)}")
    render.line(f"reasoning: {result.reasoning}")
    if explain:
        from jarvis_cli.cli.select_quality import learned_lines

        for text in learned_lines(result.candidates[:TOP_ROWS], result.task.category):
            render.line(text)
        render_excluded(result.excluded)
    elif result.excluded:
        render.line(f"{len(result.excluded)} models excluded (--explain lists them)")


WEAK_TASK = 0.6  # an inferred task less probable than this is called a guess

_CERTAIN_RULES = {"code fence": "a code fence", "diff": "a diff", "stack trace": "a stack trace"}


def task_line(category: str, rule: str) -> str:
    """Why the task is what it is, and how to change it: the table's title names the
    task; the evidence is here, with a weak guess called one."""
    import re

    if rule == "--task":
        return f"task {category}: set by --task"
    if rule in _CERTAIN_RULES:
        return f"task {category}: the prompt holds {_CERTAIN_RULES[rule]} (--task overrides)"
    if rule == "no prompt":
        return f"task {category}: no prompt given (--task sets one)"
    if rule == "no task evidence":
        return f"task {category}: nothing in the prompt points to a task (--task sets one)"
    found = re.fullmatch(r"(?s)(.*) \(p ([01]\.\d+)\)", rule)
    if found is None:
        return f"task {category}: {rule} (--task overrides)"
    evidence, p = found.group(1), float(found.group(2))
    if p < WEAK_TASK:
        return (
            f"task {category}: a weak guess (p {p:.2f}) from {evidence}; --task sets the right one"
        )
    return f"task {category}: inferred from {evidence} (p {p:.2f}; --task overrides)"


def confidence_text(result: "SelectionResult") -> str:
    """`confidence 0.38: runner-up 0.003 behind, nothing measured yet`: the figure and
    what holds it down (scoring.confidence: evidence x decisiveness)."""
    text = f"confidence {result.confidence:.2f}"
    if result.confidence >= 0.9 or not result.candidates:
        return text
    chosen = result.candidates[0]
    why = []
    if len(result.candidates) > 1 and (
        result.preferred_model is None or not result.preferred_model.used
    ):
        margin = chosen.total - result.candidates[1].total
        if margin < 0.2:  # scoring.DECISIVE_MARGIN: a wider lead is decisive
            why.append(f"runner-up {margin:.3f} behind" if margin > 0 else "tied with runner-up")
    w = result.weights
    if (w.performance or w.reliability) and chosen.metrics.calls == 0:
        probe = ", `jarvis models probe` measures" if chosen.usable else ""
        why.append(f"no calls measured yet{probe}")
    if w.quality and not chosen.quality_known:
        why.append("quality unscored")
    if w.cost and chosen.estimated_cost_usd is None:
        why.append("price unknown")
    return f"{text}: {'; '.join(why)}" if why else text


def fallbacks_text(result: "SelectionResult") -> str:
    """`a (#3), b (#7); other providers first`: each fallback's row in the table, and
    why a higher row of the chosen model's provider was passed over."""
    if not result.fallbacks:
        return "(none)"
    rank = {c.model.id: i + 1 for i, c in enumerate(result.candidates[: max(TOP_ROWS, 50)])}
    text = ", ".join(f"{m} (#{rank[m]})" if m in rank else m for m in result.fallbacks)
    ranks = [rank[m] for m in result.fallbacks if m in rank]
    passed_over = ranks != sorted(ranks) or (
        bool(ranks)
        and any(c.model.id not in result.fallbacks for c in result.candidates[1 : max(ranks)])
    )
    if passed_over:
        text += "; other providers first"
    return text


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


_TERMS = {
    "quality": "the task's 0..1 quality less its uncertainty ±m",
    "cost": "log-scale rank of the estimated cost among the candidates (1 = cheapest)",
    "performance": "log-scale rank of the expected latency (measured, else the size-class "
    "prior; 1 = fastest)",
    "reliability": "rank of the smoothed success rate",
}


def formula(result: "SelectionResult") -> str:
    """The strategy's total as a sum of weighted sub-scores, or --prefer's trade-off,
    with the terms it uses (and only those) spelled out, for --explain."""
    task = result.task.category
    if result.strategy.startswith("prefer "):
        p = float(result.strategy.split()[1])
        if p >= 1:
            return f"quality; quality = {_TERMS['quality']}; cost only breaks ties".replace(
                "the task's", f"the task's ({task})", 1
            )
        lam = 10 ** (3 - 6 * p)
        return (
            f"quality - {lam:.3g} x estimated cost / the dearest candidate's (--prefer {p:g}: "
            f"10^(3 - 6 x {p:g})); quality = {_TERMS['quality']}"
        ).replace("the task's", f"the task's ({task})", 1)
    w = result.weights.as_dict()
    used = sorted((k for k, v in w.items() if v), key=lambda k: -w[k])  # the weightiest first
    terms = " + ".join(f"{w[k]:.2f} x {k}" for k in used)
    meanings = "; ".join(f"{k} = {_TERMS[k]}" for k in used)
    return f"{terms}; {meanings}".replace("the task's", f"the task's ({task})", 1)


# What a reason shared by many models means, said once for its group.
_GROUP_NOTES = {
    "unavailable": "not listed by their provider at the last sync; `jarvis models sync "
    "PROVIDER` checks again",
}
# Reasons about the provider, not the model: listed once per provider.
_PROVIDER_CODES = frozenset({"no_key", "not_set_up", "provider_unknown"})


def render_excluded(excluded: "Sequence[Exclusion]", *, stderr: bool = False) -> None:
    """--explain: the excluded models by reason, largest group first; a reason about a
    provider (no key, not set up) once per provider with its model count, since its
    fix is the same for every model of that provider."""
    emit = render.message if stderr else render.line
    groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for e in excluded:
        groups[e.code].append((e.model_id, e.reason))
    emit(f"excluded ({len(excluded)}):")
    for code, items in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        note = _GROUP_NOTES.get(code)
        emit(f"  {code.replace('_', ' ')} ({len(items)})" + (f": {note}" if note else ":"))
        what = ""
        if code in _PROVIDER_CODES:
            items, what = _per_provider(items), " providers"
        for model_id, reason in items[:EXPLAIN_PER_REASON]:
            emit(f"    {model_id}: {reason}")
        if len(items) > EXPLAIN_PER_REASON:
            emit(f"    ... and {len(items) - EXPLAIN_PER_REASON} more{what}")


def _per_provider(items: "Sequence[tuple[str, str]]") -> list[tuple[str, str]]:
    """One (`PROVIDER (N models)`, reason) per provider, most models first."""
    by: dict[str, list[str]] = defaultdict(list)
    for model_id, reason in items:
        by[model_id.partition("/")[0]].append(reason)
    ordered = sorted(by.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    return [(f"{p} ({len(r)} model{'s' if len(r) > 1 else ''})", r[0]) for p, r in ordered]
