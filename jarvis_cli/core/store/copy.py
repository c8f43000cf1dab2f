"""`jarvis store copy`: move what a local store holds into a team store, idempotently.

Copied, in one write transaction of the target (all or nothing):

- sealed keys (`api_keys`), as ciphertext: the master key never travels. A key the
  target already has under the same provider and label is kept (it may have been
  rotated there). Keys sealed under another master key than the target's are
  refused: the vault never mixes master keys;
- key history, attempts (`calls`), logged requests and their attachments, each
  skipped when the target already has it (same natural key), so a second copy adds
  nothing;
- token calibrations a target lacks; one it has keeps its fit and takes the larger
  output overshoot;
- models that are not plain catalog rows (synced, imported, user-made, or with
  overrides); the target registers the bundled catalog itself;
- outcomes (issue 25: ratings, automatic signals, imports), each once; a request's
  outcome from a source the target already has keeps the later of the two (rating
  again replaces, on any machine).

Not copied: budget reservations (they belong to running processes), and derived
data (metrics cache, snapshots), which the target rebuilds from the copied attempts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jarvis_cli.core.errors import VaultError
from jarvis_cli.core.store.connection import Connection, StoreHandle

# table -> the columns that name a row across stores (the ids differ).
_NATURAL_KEYS: dict[str, tuple[str, ...]] = {
    "key_events": ("provider", "label", "event", "at"),
    "calls": ("request_id", "attempt", "model_id", "at"),
    "log_requests": ("request_id",),
    "content_attachments": ("request_id", "position"),
    "token_calibration": ("model_id",),  # what the target already learned stays
}
_METRICS_WATERMARK = "model_stats.watermark"  # selection/metrics.py: rebuild the cache


@dataclass
class CopyReport:
    source: str
    target: str
    copied: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "copied": self.copied,
            "already_there": self.skipped,
        }


def _rows(conn: Connection, table: str, where: str = "") -> tuple[list[str], list[tuple[Any, ...]]]:
    cursor = conn.execute(f"SELECT * FROM {table} {where}")
    names = [str(d[0]) for d in cursor.description]
    return names, [tuple(r) for r in cursor.fetchall()]


def copy_store(source: StoreHandle, target: StoreHandle) -> CopyReport:
    """Copy `source` into `target` (see the module doc); returns what was copied."""
    report = CopyReport(source.location, target.location)
    src = source.conn
    with target.write() as dst:
        _copy_keys(src, dst, report)
        for table, natural in _NATURAL_KEYS.items():
            _copy_rows(src, dst, table, natural, report)
        _copy_models(src, dst, report)
        _copy_outcomes(src, dst, report)
        _widen_output_overshoot(src, dst)
        if report.copied.get("calls"):
            dst.execute("DELETE FROM meta WHERE key = ?", (_METRICS_WATERMARK,))
    return report


def _copy_keys(src: Connection, dst: Connection, report: CopyReport) -> None:
    names, rows = _rows(src, "api_keys")
    if not rows:
        report.copied["api_keys"] = report.skipped["api_keys"] = 0
        return
    ours = {str(r[names.index("key_id")]) for r in rows}
    theirs = {str(r[0]) for r in dst.execute("SELECT DISTINCT key_id FROM api_keys")}
    if theirs and ours != theirs:
        raise VaultError(
            f"the team store's keys are sealed with master key {', '.join(sorted(theirs))}, "
            f"the local ones with {', '.join(sorted(ours))}; refusing to mix master keys "
            "(nothing was copied)",
            hint="use the team's JARVIS_MASTER_KEY and run `jarvis keys rekey` on the local "
            "store first, then copy again",
        )
    existing = {(str(r[0]), str(r[1])) for r in dst.execute("SELECT provider, label FROM api_keys")}
    at = names.index("provider"), names.index("label")
    new = [r for r in rows if (r[at[0]], r[at[1]]) not in existing]
    _insert(dst, "api_keys", names, new)
    report.copied["api_keys"] = len(new)
    report.skipped["api_keys"] = len(rows) - len(new)


def _copy_rows(
    src: Connection, dst: Connection, table: str, natural: tuple[str, ...], report: CopyReport
) -> None:
    names, rows = _rows(src, table)
    keep = [i for i, n in enumerate(names) if n != "id"]
    names = [names[i] for i in keep]
    rows = [tuple(r[i] for i in keep) for r in rows]
    key_at = [names.index(n) for n in natural]
    existing = {tuple(r) for r in dst.execute(f"SELECT {', '.join(natural)} FROM {table}")}
    new = [r for r in rows if tuple(r[i] for i in key_at) not in existing]
    _insert(dst, table, names, new)
    report.copied[table] = len(new)
    report.skipped[table] = len(rows) - len(new)


def _copy_outcomes(src: Connection, dst: Connection, report: CopyReport) -> None:
    names, rows = _rows(src, "outcomes")
    keep = [i for i, n in enumerate(names) if n != "id"]
    names = [names[i] for i in keep]
    at, req, source = (names.index(n) for n in ("at", "request_id", "source"))
    key_at = [names.index(n) for n in ("at", "model_id", "source", "request_id", "score")]
    existing = {
        tuple(r)
        for r in dst.execute("SELECT at, model_id, source, request_id, score FROM outcomes")
    }
    rated = {
        (r[0], r[1]): r[2]
        for r in dst.execute(
            "SELECT request_id, source, at FROM outcomes WHERE request_id IS NOT NULL"
        )
    }
    new = []
    for row in (tuple(r[i] for i in keep) for r in rows):
        if tuple(row[i] for i in key_at) in existing:
            continue
        if row[req] is not None and (row[req], row[source]) in rated:
            if row[at] <= rated[(row[req], row[source])]:
                continue  # the target's is as new or newer: it counts
            dst.execute(
                "DELETE FROM outcomes WHERE request_id = ? AND source = ?", (row[req], row[source])
            )
        new.append(row)
    _insert(dst, "outcomes", names, new)
    report.copied["outcomes"] = len(new)
    report.skipped["outcomes"] = len(rows) - len(new)


def _widen_output_overshoot(src: Connection, dst: Connection) -> None:
    """A calibration the target already had keeps its fit, but takes the larger output
    overshoot (issue 23): what any machine saw a model bill past its limit is reserved."""
    rows = src.execute(
        "SELECT output_overshoot, output_overshoot, model_id FROM token_calibration"
        " WHERE output_overshoot > 0"
    ).fetchall()
    if rows:
        dst.executemany(
            "UPDATE token_calibration SET output_overshoot = CASE WHEN ? > output_overshoot"
            " THEN ? ELSE output_overshoot END WHERE model_id = ?",
            [tuple(r) for r in rows],
        )


def _copy_models(src: Connection, dst: Connection, report: CopyReport) -> None:
    names, rows = _rows(src, "models", "WHERE source != 'catalog' OR overrides IS NOT NULL")
    existing = {str(r[0]) for r in dst.execute("SELECT id FROM models")}
    new = [r for r in rows if r[names.index("id")] not in existing]
    _insert(dst, "models", names, new)
    # A model the target has (e.g. from its catalog) takes the local overrides it lacks.
    taken = 0
    for r in rows:
        model_id, overrides = r[names.index("id")], r[names.index("overrides")]
        if model_id in existing and overrides is not None:
            taken += dst.execute(
                "UPDATE models SET overrides = ? WHERE id = ? AND overrides IS NULL",
                (overrides, model_id),
            ).rowcount
    report.copied["models"] = len(new) + taken
    report.skipped["models"] = len(rows) - len(new) - taken


def _insert(dst: Connection, table: str, names: list[str], rows: list[tuple[Any, ...]]) -> None:
    if rows:
        dst.executemany(
            f"INSERT INTO {table}({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
            rows,
        )
