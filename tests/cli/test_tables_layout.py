"""`cli/tables.py`'s layout and row drawing, in process (the pty tests in
test_tables_fit.py drive the same code through every command)."""

from __future__ import annotations

from rich.text import Text

from jarvis_cli.cli.tables import ID, NUM, TEXT, Column, Layout, layout, lines

COLUMNS = [
    Column("#", NUM),
    Column("model", ID),
    Column("cost", NUM),
    Column("calls", NUM, priority=2),
    Column("p50 ms", NUM, priority=1),
    Column("note", TEXT, priority=3, min_width=6),
    Column("debug", NUM, wide=True),
]


def sizes(rows: list[list[str]]) -> list[list[int]]:
    return [[len(c) for c in row] for row in rows]


def row(model: str, note: str = "a short note") -> list[str]:
    return ["1", model, "$0.000805", "12", "1,234", note, "7"]


def plain(lay: Layout, rows: list[list[str]]) -> list[str]:
    return [t.plain for t in lines(COLUMNS, [[Text(c) for c in r] for r in rows], lay)]


def test_no_width_shows_every_default_column_whole() -> None:
    rows = [row("fireworks/accounts/fireworks/models/qwen3p7-plus")]
    lay = layout(COLUMNS, sizes(rows), None, wide=False)
    assert lay.shown == [0, 1, 2, 3, 4, 5] and lay.hidden == []
    assert lay.widths[1] == len("fireworks/accounts/fireworks/models/qwen3p7-plus")
    wide = layout(COLUMNS, sizes(rows), 40, wide=True)
    assert wide.shown == [0, 1, 2, 3, 4, 5, 6] and wide.widths == [
        max(len(c.header), len(v)) for c, v in zip(COLUMNS, rows[0], strict=True)
    ]


def test_optional_columns_come_in_by_priority_while_they_fit() -> None:
    rows = [row("a/model-one"), row("b/model-two")]
    # "#", model 11, cost 9 + gaps = 26; p50 ms (prio 1) +8 = 34; calls (prio 2) +7 = 41
    assert layout(COLUMNS, sizes(rows), 26, wide=False).hidden == ["calls", "p50 ms", "note"]
    at_34 = layout(COLUMNS, sizes(rows), 34, wide=False)
    assert at_34.shown == [0, 1, 2, 4] and at_34.hidden == ["calls", "note"]
    at_41 = layout(COLUMNS, sizes(rows), 41, wide=False)
    assert at_41.shown == [0, 1, 2, 3, 4] and at_41.hidden == ["note"]


def test_a_hidden_column_hides_every_lower_priority() -> None:
    cols = [Column("id", ID), Column("long header", NUM, priority=1), Column("n", NUM, priority=2)]
    lay = layout(cols, [[4, 1, 1]], 10, wide=False)
    assert lay.shown == [0] and lay.hidden == ["long header", "n"]  # "n" would fit alone


def test_ids_narrow_so_that_few_rows_spill_when_the_essentials_do_not_fit() -> None:
    models = [f"p/model-{i}" for i in range(7)] + ["p/" + "x" * 34]
    rows = [row(m) for m in models]
    lay = layout(COLUMNS, sizes(rows), 40, wide=False)
    # 7 of 8 ids are 9 characters: the column is as wide as they are (plus what is left)
    assert lay.shown[:3] == [0, 1, 2]
    assert lay.widths[1] < 36
    shown = plain(lay, rows)
    assert all(len(line) <= 40 for line in shown)
    assert shown[-2] == "1  p/" + "x" * 34  # whole; its row goes on below it
    assert shown[-1].split() == ["$0.000805", "12", "1,234"]
    assert len(shown) == 1 + 7 + 2  # the header, 7 rows on one line each, one on two


def test_an_id_wider_than_its_column_continues_the_row_on_the_next_line() -> None:
    rows = [row("p/short"), row("p/a-rather-long-model-id")]
    cols = COLUMNS[:3]
    lay = Layout([0, 1, 2], [1, 9, 9], [], 60)
    shown = [t.plain for t in lines(cols, [[Text(c) for c in r[:3]] for r in rows], lay)]
    assert shown == [
        "#  model           cost",
        "1  p/short    $0.000805",
        "1  p/a-rather-long-model-id",
        "              $0.000805",
    ]


def test_an_id_that_would_pass_the_edge_gets_a_line_of_its_own() -> None:
    cols = [Column("at"), Column("model", ID), Column("result")]
    long_id = "provider/" + "m" * 30
    lay = Layout([0, 1, 2], [19, 10, 6], [], 40)
    shown = [t.plain for t in lines(cols, [[Text("2026-12-05 17:43:31"), Text(long_id),
                                             Text("ok")]], lay)]  # fmt: skip
    assert shown[1] == "2026-12-05 17:43:31" + " " * 14 + "ok"
    assert shown[2] == " " * 1 + long_id and len(shown[2]) == 40


def test_text_is_cut_with_an_ellipsis_and_numbers_are_right_aligned() -> None:
    cols = [Column("n", NUM), Column("note", TEXT, min_width=6)]
    lay = Layout([0, 1], [5, 6], [], 20)
    shown = [t.plain for t in lines(cols, [[Text("42"), Text("a long note")]], lay)]
    assert shown == ["    n  note", "   42  a lon…"]


def test_texts_shrink_to_their_minimum_before_columns_are_hidden() -> None:
    rows = [row("a/model", note="n" * 50)]
    lay = layout(COLUMNS, sizes(rows), 60, wide=False)
    assert 5 in lay.shown and lay.hidden == []
    assert lay.widths[-1] == 60 - sum(lay.widths[:-1]) - 2 * (len(lay.shown) - 1)
