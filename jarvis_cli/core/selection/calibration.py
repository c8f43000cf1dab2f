"""Per-model token calibration in the store (`token_calibration`, issue 23).

Every answered attempt whose provider reported its prompt tokens is a sample
(`bound.Sample`); `learn` adds samples inside the caller's write transaction (the
one that records the attempts, so learning costs no transaction of its own) and
refits the model's envelope (`bound.fit`). Those with a limit sent and billed
completion tokens also teach the output side: the most tokens billed past the limit
(`output_overshoot`, which only grows: an overrun widens every later reservation).
The table lives in the store, so a team store shares what every machine learned.
`load` reads the fits of many models in one statement: a request or a selection pays
one round trip, not one per model.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from jarvis_cli.core.providers.capabilities import RequestKind
from jarvis_cli.core.registry.records import ModelRecord
from jarvis_cli.core.selection.bound import (
    MAX_SAMPLES,
    Fit,
    InputShape,
    Sample,
    fit,
)
from jarvis_cli.core.selection.cost import (
    TOKENS_PER_MTOK,
    ExpectedOutput,
    RequestCost,
    output_limit,
    request_cost,
)
from jarvis_cli.core.store.connection import Connection

if TYPE_CHECKING:
    from jarvis_cli.core.registry.model_table import ModelTable

_COLUMNS = "model_id, n, overhead, ascii_ratio, other_ratio, typical, output_n, output_overshoot"
Observation = tuple[Sample, int | None]  # input sample, completion tokens - limit sent


def _fit_of(r: Any) -> Fit:
    return Fit(int(r[1]), float(r[2]), float(r[3]), float(r[4]), float(r[5]), int(r[6]), int(r[7]))


def load(conn: Connection, model_ids: Iterable[str]) -> dict[str, Fit]:
    """The calibration of each of `model_ids` that has one (one statement)."""
    ids = sorted(set(model_ids))
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM token_calibration WHERE model_id IN ({marks})", ids
    ).fetchall()
    return {str(r[0]): _fit_of(r) for r in rows}


def load_all(conn: Connection) -> dict[str, Fit]:
    """Every model's calibration (one statement: the table holds models that answered)."""
    rows = conn.execute(f"SELECT {_COLUMNS} FROM token_calibration").fetchall()
    return {str(r[0]): _fit_of(r) for r in rows}


def expected_inputs(fits: Mapping[str, Fit], shape: InputShape) -> dict[str, int]:
    """Each calibrated model's typical input tokens for `shape` (for ranking by cost)."""
    out = {}
    for model_id, f in fits.items():
        bound = f.bound(shape)
        out[model_id] = min(bound, math.ceil(bound * f.typical))
    return out


def per_model_costs(
    table: ModelTable,
    cand: Sequence[int],
    costs: list[float],
    tokens: tuple[int, int],
    inputs: Mapping[str, int],
    outputs: Mapping[int, int] | None = None,
) -> list[float]:
    """`costs` (aligned with `cand`) with each model that has figures of its own priced at
    them: calibrated models at their typical input tokens (`inputs`, by id), models with
    an expected output learned from outcomes at it (`outputs`, by position;
    selection/learned_output.py); the request-wide (input, output) `tokens` stand in for
    what a model lacks, and the others keep their estimate. Priced exactly as
    cost.cost_usd (NaN: a price that matters is unknown)."""
    outputs = outputs or {}
    if not inputs and not outputs:
        return costs
    ids = table.ids
    price_in = table.columns["input_cost_per_mtok"]
    price_out = table.columns["output_cost_per_mtok"]
    in_of, out_of, m = inputs.get, outputs.get, TOKENS_PER_MTOK
    out = list(costs)
    for k, i in enumerate(cand):
        n_in, n_out = in_of(ids[i]), out_of(i)
        if n_in is None and n_out is None:
            continue
        n_in = tokens[0] if n_in is None else n_in
        n_out = tokens[1] if n_out is None else n_out
        total = 0.0
        if n_in:
            total += n_in * price_in[i] / m
        if n_out:
            total += n_out * price_out[i] / m
        elif not n_in and price_in[i] != price_in[i]:
            total = math.nan
        out[k] = total
    return out


def learn(
    conn: Connection, observed: Sequence[tuple[str, Observation]], now: float | None = None
) -> None:
    """Add (model id, (sample, overshoot)) pairs and refit those models, in the caller's
    transaction. An overshoot (completion tokens - limit sent; None when no limit was
    sent or the completion tokens are unknown) raises the model's output allowance."""
    if not observed:
        return
    now = time.time() if now is None else now
    by_model: dict[str, list[Observation]] = {}
    for model_id, item in observed:
        by_model.setdefault(model_id, []).append(item)
    ids = sorted(by_model)
    marks = ",".join("?" * len(ids))
    stored = {
        str(r[0]): (json.loads(r[1]), int(r[2]), int(r[3]), int(r[4]))
        for r in conn.execute(
            "SELECT model_id, samples, n, output_n, output_overshoot FROM token_calibration"
            f" WHERE model_id IN ({marks})",
            ids,
        ).fetchall()
    }
    for model_id in ids:
        old, n, out_n, over = stored.get(model_id, ([], 0, 0, 0))
        items = by_model[model_id]
        kept: list[Sample] = [(int(s[0]), int(s[1]), int(s[2]), int(s[3])) for s in old]
        kept = [*kept, *(sample for sample, _ in items)][-MAX_SAMPLES:]
        n += len(items)
        seen = [d for _, d in items if d is not None]
        out_n += len(seen)
        over = max([over, *seen])
        f = fit(kept, n)
        # output_overshoot only grows, even when two writers refit at once (PostgreSQL).
        conn.execute(
            "INSERT INTO token_calibration(model_id, samples, n, overhead, ascii_ratio,"
            " other_ratio, typical, updated_at, output_n, output_overshoot)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(model_id) DO UPDATE SET samples = excluded.samples, n = excluded.n,"
            " overhead = excluded.overhead, ascii_ratio = excluded.ascii_ratio,"
            " other_ratio = excluded.other_ratio, typical = excluded.typical,"
            " updated_at = excluded.updated_at, output_n = excluded.output_n,"
            " output_overshoot = CASE WHEN excluded.output_overshoot >"
            " token_calibration.output_overshoot THEN excluded.output_overshoot"
            " ELSE token_calibration.output_overshoot END",
            (
                model_id,
                json.dumps(kept, separators=(",", ":")),
                n,
                f.overhead,
                f.ascii_ratio,
                f.other_ratio,
                f.typical,
                now,
                out_n,
                max(0, over),
            ),
        )


def request_costs(
    conn: Connection,
    models: Sequence[ModelRecord],
    shape: InputShape | None,
    *,
    kind: RequestKind,
    output_tokens: int | None,
    default_output_limit: int,
    heuristic_input: int,
    learned: Mapping[str, ExpectedOutput] | None = None,
) -> dict[str, RequestCost]:
    """Each model's bound and expectation for one request, calibrations read at once.

    `shape` None means the input tokens were given (`select --input-tokens`): that
    figure is both the bound and the expectation. `learned`: model id -> its expected
    output from outcomes (selection/learned_output.py; the others expect the default).
    """
    fits = load(conn, (m.id for m in models))
    out = {}
    learned = learned or {}
    for m in models:
        limit = output_limit(kind, output_tokens, default_output_limit, m.max_output_tokens)
        mean = learned.get(m.id) if kind != "embedding" else None
        out[m.id] = request_cost(
            m,
            shape,
            fits.get(m.id),
            output_tokens=limit,
            heuristic_input=heuristic_input,
            learned=mean,
        )
    return out
