"""Outcomes: scores of answers that selection learns from (issue 25).

Sources and their weights (how many outcomes one counts for, in the posterior of
core/selection/learning.py):

- `rate` (1.0): `jarvis rate [ID] good|bad|0..1`, `/good` `/bad` in chat. Rating
  the same request again replaces the earlier rating (one row per request and
  source).
- `import` (1.0 each): `jarvis outcomes import FILE` lines.
- automatic signals, about the answer rather than the transport (recorded by
  `record_signal`): `schema` (0.5): a `--schema` answer validated (1) or not (0);
  `tools` (0.5): tool-call arguments parsed as JSON (1) or not (0); `truncated`
  (0.25): the answer stopped at the token limit (0).

Each outcome also keeps the output tokens its answer was billed (`output_tokens`): a
rating's or a signal's request, the completion tokens the provider reported for the
answering attempt (NULL when it reported none); an import line's `output_tokens`,
else an estimate from its `cost_usd` and the model's prices (`derived_output_tokens`).
Selection learns each model's expected output from them (selection/learned_output.py).

The prompt (and its hashed terms, for the per-prompt estimate) is kept only while
the content log is on (`[log] content`); `jarvis log prune` and `[log]
retention_days` prune outcomes with the log.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from jarvis_cli.core.errors import UsageError
from jarvis_cli.core.selection.prompt_terms import encode_terms, prompt_terms
from jarvis_cli.core.selection.task import resolve_task
from jarvis_cli.core.store.connection import MAX_ROW_LIMIT, Connection, StoreHandle

WEIGHTS = {"rate": 1.0, "import": 1.0, "schema": 0.5, "tools": 0.5, "truncated": 0.25}
RATINGS = {"good": 1.0, "bad": 0.0}


@dataclass(frozen=True)
class OutcomeRow:
    id: int
    at: float
    request_id: str | None
    model_id: str
    task: str
    score: float
    weight: float
    source: str
    note: str | None
    prompt: str | None
    cost_usd: float | None
    output_tokens: int | None

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "at": self.at,
            "request_id": self.request_id,
            "model": self.model_id,
            "task": self.task,
            "score": self.score,
            "weight": self.weight,
            "source": self.source,
            "note": self.note,
            "prompt": self.prompt,
            "cost_usd": self.cost_usd,
            "output_tokens": self.output_tokens,
        }


def parse_score(text: str) -> float:
    """`good` -> 1, `bad` -> 0, else a number in 0..1; UsageError (exit 2) otherwise."""
    lowered = text.strip().lower()
    if lowered in RATINGS:
        return RATINGS[lowered]
    try:
        value = float(lowered)
    except ValueError:
        raise UsageError(f"a rating is good, bad or a number from 0 to 1, got {text!r}") from None
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise UsageError(f"a score must be between 0 and 1, got {text!r}")
    return value


def _content(prompt: str | None, keep: bool) -> tuple[str | None, str | None]:
    if not keep or not prompt:
        return None, None
    return prompt, encode_terms(prompt_terms(prompt))


class Answered(NamedTuple):
    request_id: str
    model_id: str  # the model that answered
    prompt: str | None  # when logged
    output_tokens: int | None  # completion tokens billed (None: the provider reported none)


def find_request(conn: Connection, ref: str | None) -> Answered:
    """The answered request `ref`: a request id or a unique prefix of one; None = the
    last answered request. UsageError if none."""
    billed = "CASE WHEN tokens_estimated = 1 THEN NULL ELSE completion_tokens END"
    if ref is None:
        row = conn.execute(
            f"SELECT request_id, model_id, {billed} FROM calls WHERE ok = 1"
            " ORDER BY at DESC, id DESC LIMIT 1"
        ).fetchone()
        if row is None:
            raise UsageError("no answered request to rate yet", hint="run `jarvis complete` first")
    else:
        rows = conn.execute(
            f"SELECT request_id, model_id, {billed} FROM calls WHERE ok = 1 AND request_id"
            " LIKE ? ORDER BY at DESC, id DESC LIMIT 3",
            (ref.replace("%", "").replace("_", "") + "%",),
        ).fetchall()
        exact = [r for r in rows if r[0] == ref]
        rows = exact or [r for r in rows if r[0].startswith(ref)]
        if not rows:
            raise UsageError(
                f"no answered request {ref!r}",
                hint="request ids are in `jarvis log` and in --json outputs",
            )
        if len({r[0] for r in rows}) > 1:
            raise UsageError(f"request id prefix {ref!r} is ambiguous", hint="give more of the id")
        row = rows[0]
    logged = conn.execute(
        "SELECT prompt FROM log_requests WHERE request_id = ?", (row[0],)
    ).fetchone()
    tokens = None if row[2] is None else int(row[2])
    return Answered(str(row[0]), str(row[1]), None if logged is None else logged[0], tokens)


def record(
    store: StoreHandle,
    *,
    request_id: str | None,
    model_id: str,
    score: float,
    source: str,
    prompt: str | None,
    keep_prompt: bool,
    task: str | None = None,
    note: str | None = None,
    cost_usd: float | None = None,
    at: float | None = None,
    output_tokens: int | None = None,
) -> None:
    """Record one outcome (replacing the same request's earlier one from `source`)."""
    stored_prompt, terms = _content(prompt, keep_prompt)
    category = task or resolve_task(None, prompt).category
    with store.write() as conn:
        if request_id is not None:
            conn.execute(
                "DELETE FROM outcomes WHERE request_id = ? AND source = ?", (request_id, source)
            )
        conn.execute(
            "INSERT INTO outcomes(at, request_id, model_id, task, score, weight, source, note,"
            " prompt, terms, cost_usd, output_tokens) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                time.time() if at is None else at,
                request_id,
                model_id,
                category,
                score,
                WEIGHTS[source],
                source,
                note,
                stored_prompt,
                terms,
                cost_usd,
                output_tokens,
            ),
        )


@dataclass(frozen=True)
class ImportLine:
    prompt: str
    model_id: str
    score: float
    task: str | None
    cost_usd: float | None
    output_tokens: int | None = None


def parse_import(lines: Iterable[str], name: str) -> list[ImportLine]:
    """Every line of a JSON Lines import, checked; UsageError naming the first bad line."""
    from jarvis_cli.core.selection.task import TASKS

    out = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue

        def bad(why: str, number: int = number) -> UsageError:
            return UsageError(f"{name}: line {number}: {why}", hint="nothing was imported")

        try:
            rec = json.loads(line)
        except ValueError:
            raise bad("not valid JSON") from None
        if not isinstance(rec, dict):
            raise bad("expected a JSON object")
        prompt, model, score = rec.get("prompt"), rec.get("model"), rec.get("score")
        if not isinstance(prompt, str) or not prompt:
            raise bad('"prompt" must be a non-empty string')
        if not isinstance(model, str) or "/" not in model:
            raise bad('"model" must be a model id (PROVIDER/NAME)')
        if isinstance(score, bool) or not isinstance(score, int | float):
            raise bad('"score" must be a number from 0 to 1')
        if not math.isfinite(score) or not 0 <= score <= 1:
            raise bad(f'"score" must be between 0 and 1, got {score}')
        task = rec.get("task")
        if task is not None and task not in TASKS:
            raise bad(f'unknown "task" {task!r} (known: {", ".join(TASKS)})')
        cost = rec.get("cost_usd")
        if cost is not None and (
            isinstance(cost, bool)
            or not isinstance(cost, int | float)
            or not math.isfinite(cost)  # json.loads takes NaN and Infinity
            or cost < 0
        ):
            raise bad('"cost_usd" must be a number >= 0')
        tokens = rec.get("output_tokens")
        if tokens is not None and (isinstance(tokens, bool) or not isinstance(tokens, int)
                                   or tokens < 0):  # fmt: skip
            raise bad(f'"output_tokens" must be an integer >= 0, got {json.dumps(tokens)}')
        if tokens is not None and tokens > MAX_ROW_LIMIT:
            raise bad(f'"output_tokens" is too large (at most 2**63 - 1), got {tokens}')
        cost = None if cost is None else float(cost)  # an int past 2**63 is no INTEGER
        out.append(ImportLine(prompt, model, float(score), task, cost, tokens))
    return out


def derived_output_tokens(
    prompt: str, cost_usd: float, prices: tuple[float, float] | None
) -> int | None:
    """The output tokens `cost_usd` paid for, at (input, output) USD per million tokens,
    with the prompt's tokens estimated as ceil(chars / 4): an estimate from the price,
    None when a price is unknown or the output is free."""
    if prices is None:
        return None
    price_in, price_out = prices
    if not (price_in >= 0 and price_out > 0):  # NaN: unknown
        return None
    paid_in = math.ceil(len(prompt) / 4) * price_in / 1e6
    return round(max(0.0, (cost_usd - paid_in) / (price_out / 1e6)))


def import_lines(
    store: StoreHandle,
    lines: Sequence[ImportLine],
    *,
    keep_prompt: bool,
    prices: Mapping[str, tuple[float, float]] | None = None,
) -> None:
    """Insert every line in one transaction. A line without `output_tokens` but with a
    `cost_usd` gets them derived from the model's `prices` (input, output per MTok)."""
    prices = prices or {}
    now = time.time()
    rows = []
    terms_of: dict[str, tuple[str | None, str | None, str]] = {}
    for ln in lines:
        found = terms_of.get(ln.prompt)
        if found is None:
            found = (*_content(ln.prompt, keep_prompt), resolve_task(None, ln.prompt).category)
            terms_of[ln.prompt] = found
        prompt, terms, category = found
        tokens = ln.output_tokens
        if tokens is None and ln.cost_usd is not None:
            tokens = derived_output_tokens(ln.prompt, ln.cost_usd, prices.get(ln.model_id))
        rows.append(
            (
                now,
                ln.model_id,
                ln.task or category,
                ln.score,
                WEIGHTS["import"],
                "import",
                prompt,
                terms,
                ln.cost_usd,
                tokens,
            )
        )
    with store.write() as conn:
        conn.executemany(
            "INSERT INTO outcomes(at, model_id, task, score, weight, source, prompt, terms,"
            " cost_usd, output_tokens) VALUES (?,?,?,?,?,?,?,?,?,?)",
            rows,
        )


_COLUMNS = (
    "id, at, request_id, model_id, task, score, weight, source, note, prompt, cost_usd,"
    " output_tokens"
)


def _model_and_source(model_id: str | None, source: str | None) -> tuple[list[str], list[object]]:
    """WHERE terms and their parameters for the --model and --source filters."""
    where: list[str] = []
    params: list[object] = []
    if model_id:
        where.append("model_id = ?")
        params.append(model_id)
    if source:
        where.append("source = ?")
        params.append(source)
    return where, params


def list_outcomes(
    conn: Connection, *, model_id: str | None = None, source: str | None = None, limit: int | None
) -> list[OutcomeRow]:
    """Outcomes, newest first."""
    where, params = _model_and_source(model_id, source)
    sql = f"SELECT {_COLUMNS} FROM outcomes"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY at DESC, id DESC"
    if limit is not None:
        sql += f" LIMIT {min(int(limit), MAX_ROW_LIMIT)}"
    return [OutcomeRow(*r) for r in conn.execute(sql, params)]


def delete_outcomes(
    store: StoreHandle,
    *,
    ids: Sequence[int] = (),
    request_id: str | None = None,
    model_id: str | None = None,
    source: str | None = None,
    everything: bool = False,
) -> int:
    """Delete the outcomes matching every filter given; the number deleted."""
    where: list[str] = []
    params: list[object] = []
    if ids:
        known = [i for i in ids if abs(i) <= MAX_ROW_LIMIT]  # a larger id names no row
        where.append(f"id IN ({','.join('?' * len(known))})" if known else "1 = 0")
        params.extend(known)
    if request_id is not None:
        prefix = request_id.replace("%", "").replace("_", "")
        if not prefix:  # `--request %` (or "") matched every request: never "all" by accident
            raise UsageError(
                f"--request needs a request id or a prefix of one, got {request_id!r}",
                hint="request ids are in `jarvis log` (the request column); --all deletes all",
            )
        where.append("request_id LIKE ?")
        params.append(prefix + "%")
    more, more_params = _model_and_source(model_id, source)
    where += more
    params += more_params
    if not where and not everything:
        raise UsageError(
            "say which outcomes to delete", hint="give ids, --request, --model, --source or --all"
        )
    sql = "DELETE FROM outcomes" + (" WHERE " + " AND ".join(where) if where else "")
    with store.write() as conn:
        return int(conn.execute(sql, params).rowcount)
