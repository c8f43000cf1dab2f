"""Tables that fit the terminal, the way `kubectl get` and `gh` draw them.

A table is a list of `Column`s and rows of cells. Each column says what may happen
to its cells when the terminal is narrow:

- `ID` (model ids, request ids, URLs: what a user copies): never cut. When the
  column is narrower than a cell, the cell is written whole and the rest of its row
  continues on the next line, under its own columns; an id that would pass the
  terminal's edge that way gets a line of its own under its row instead.
- `NUM` (right-aligned) and `WORD` (short labels, dates): never cut, never narrowed;
  the column is hidden instead.
- `TEXT` (previews, messages): cut with "…", down to `min_width`.

Columns are hidden by `priority` (0: always shown; the highest number goes first)
until the rest fits; `wide=True` columns appear only with `--wide`, which shows
every column at full width. A pipe or file gets every default column at full width,
one row per line, so `grep`/`awk` see whole values. Rows are borderless, two spaces
between columns, so a copied line holds no box characters.

To add a column to a command: add one `Column(...)` to its list, with a priority
that says how soon it may be hidden, and the matching cell in each row.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from jarvis_cli.cli import render

if TYPE_CHECKING:
    from rich.text import Text

ID = "id"
NUM = "num"
WORD = "word"
TEXT = "text"

GAP = 2  # spaces between columns
SPILL_SHARE = 0.25  # at most this share of rows put an id on a line of its own...
ID_MIN = 16  # ...unless the always-shown columns need more room: ids narrow down to this
FIELD_MAX = 2000  # characters of one value of a key/value table (table cells: CELL_MAX)


class Column(NamedTuple):
    """One column: its header, how its cells may be fitted, and how soon it is hidden."""

    header: str
    kind: str = WORD
    priority: int = 0  # 0: always shown; when space runs out the highest goes first
    wide: bool = False  # shown only with --wide
    min_width: int = 12  # TEXT: cut down to this before columns are hidden


class Layout(NamedTuple):
    """Which columns are shown (indexes into the column list), at which widths, and
    which were hidden to fit (their headers)."""

    shown: list[int]
    widths: list[int]
    hidden: list[str]
    width: int | None = None  # the terminal's, when the table is fitted to one


def layout(
    columns: Sequence[Column], sizes: Sequence[Sequence[int]], width: int | None, *, wide: bool
) -> Layout:
    """Choose the columns and widths for a table whose cells are `sizes` cells wide.

    `width` None means no limit (a pipe, or --wide). Ids get their full width when the
    always-shown columns fit with it. Otherwise each id column is narrowed so that at
    most SPILL_SHARE of its cells take a line of their own (further, down to ID_MIN,
    if the always-shown columns need it). Then optional columns are added in priority
    order while they fit, and the space left widens ids, then texts.
    """
    natural = [max([len(c.header), *(row[i] for row in sizes)]) for i, c in enumerate(columns)]
    candidates = [i for i, c in enumerate(columns) if wide or not c.wide]
    if width is None or wide:
        return Layout(candidates, [natural[i] for i in candidates], [])
    floors = {i: natural[i] for i in candidates}
    for i in candidates:
        if columns[i].kind == TEXT:
            floors[i] = min(natural[i], max(len(columns[i].header), columns[i].min_width))

    def need(cols: list[int]) -> int:
        return sum(floors[i] for i in cols) + GAP * max(0, len(cols) - 1)

    essential = [i for i in candidates if columns[i].priority == 0]
    if need(essential) > width:  # not every id fits whole on its row's line
        ids = [i for i in candidates if columns[i].kind == ID]
        for i in ids:
            floors[i] = _spill_floor(len(columns[i].header), [row[i] for row in sizes])
        narrowest = {i: min(floors[i], max(len(columns[i].header), ID_MIN)) for i in ids}
        while need(essential) > width:
            widest = max(
                (i for i in ids if i in essential),
                key=lambda i: floors[i] - narrowest[i],
                default=None,
            )
            if widest is None or floors[widest] <= narrowest[widest]:
                break  # even the always-shown columns are wider than the terminal
            floors[widest] -= 1
    shown = list(essential)
    hidden: list[int] = []
    for i in sorted(
        (i for i in candidates if columns[i].priority > 0),
        key=lambda i: (columns[i].priority, i),
    ):
        trial = sorted([*shown, i])
        if not hidden and need(trial) <= width:
            shown = trial
        else:
            hidden.append(i)  # once one is hidden, every lower priority is hidden too
    widths = {i: floors[i] for i in shown}
    spare = width - need(shown)
    for i in shown:  # whole ids first: fewer rows on two lines
        if columns[i].kind == ID and spare > 0:
            grow = min(spare, natural[i] - widths[i])
            widths[i] += grow
            spare -= grow
    texts = [i for i in shown if columns[i].kind == TEXT]
    while spare > 0 and (short := [i for i in texts if widths[i] < natural[i]]):
        for i in short[:spare]:  # then texts, a character each in turn
            widths[i] += 1
            spare -= 1
    hidden_headers = [columns[i].header for i in sorted(hidden)]
    return Layout(shown, [widths[i] for i in shown], hidden_headers, width)


def _spill_floor(header: int, cells: list[int]) -> int:
    """The narrowest id column that leaves at most SPILL_SHARE of its cells too wide."""
    if not cells:
        return header
    ordered = sorted(cells)
    keep = max(1, math.ceil(len(ordered) * (1 - SPILL_SHARE)))
    return max(header, ordered[keep - 1])


def lines(
    columns: Sequence[Column],
    rows: Sequence[Sequence[Text]],
    lay: Layout,
    *,
    header_style: str = "bold",
    row_styles: Sequence[str | None] = (),
) -> list[Text]:
    """The table as text lines: a header line, then each row on one line (or more when
    an id is wider than its column)."""
    from rich.text import Text

    out = [
        _row_lines(
            [columns[i] for i in lay.shown],
            [Text(columns[i].header) for i in lay.shown],
            lay.widths,
            header_style,
        )[0]
    ]
    for n, row in enumerate(rows):
        style = row_styles[n] if n < len(row_styles) else None
        out.extend(
            _row_lines(
                [columns[i] for i in lay.shown],
                [row[i] for i in lay.shown],
                lay.widths,
                style,
                lay.width,
            )
        )
    return out


def _row_lines(
    cols: Sequence[Column],
    cells: Sequence[Text],
    widths: Sequence[int],
    style: str | None,
    limit: int | None = None,
) -> list[Text]:
    """One row as lines. An id wider than its column is written whole and the row goes
    on below it, under its own columns; if the id would pass the terminal's edge
    (`limit`), it gets a line of its own under the row instead."""
    from rich.text import Text

    done: list[Text] = []
    own: list[Text] = []  # ids on lines of their own, after the row
    line = Text()
    at = 0  # the column the line has reached
    start = 0  # where the current column begins
    for j, (col, cell, width) in enumerate(zip(cols, cells, widths, strict=True)):
        if at < start:
            line.append(" " * (start - at))
            at = start
        text = cell.copy()
        size = text.cell_len
        if size > width and col.kind == TEXT:
            text.truncate(width, overflow="ellipsis")
            size = text.cell_len
        elif size > width and limit is not None and start + size > limit:
            own.append(Text(" " * max(0, min(start, limit - size))).append_text(text))
            text, size = Text(), 0
        if col.kind == NUM and size < width:
            line.append(" " * (width - size))
            at += width - size
        line.append_text(text)
        at += size
        start += width + GAP
        if at > start - GAP and j < len(cols) - 1:  # an id wider than its column
            done.append(line)
            line, at = Text(), 0
    done.append(line)
    done.extend(own)
    for t in done:
        t.rstrip()
        if style:
            t.stylize(style)
    return done


def table(
    columns: Sequence[Column | str],
    rows: Sequence[Sequence[Any]],
    *,
    title: str | None = None,
    highlight_row: int | None = None,
    wide: bool | None = None,
) -> Layout | None:
    """Draw a table on stdout, fitted to the terminal (see the module docstring), and
    return its layout (None for a key/value table).

    `wide`: the command's --wide; None for a command without one (hidden columns are
    then not announced). A plain string column is a WORD column that is always shown.
    Blank headers make a key/value table (`fields`).
    """
    from rich.text import Text

    cols = [c if isinstance(c, Column) else Column(c) for c in columns]
    if not any(c.header for c in cols):
        fields(rows, title=title)
        return None
    cells = [[render.cell(v) for v in row] for row in rows]
    out = render.console()
    width = out.width if render.is_tty(sys.stdout) else None
    lay = layout(cols, [[c.cell_len for c in row] for row in cells], width, wide=bool(wide))
    styles = ["bold green" if n == highlight_row else None for n in range(len(rows))]
    if title is not None:
        out.print(Text(render.cut(render.visible(title))))
    body = Text("\n").join(lines(cols, cells, lay, row_styles=styles))
    out.print(body, soft_wrap=True)  # no wrapping, no cropping: ids stay whole
    if lay.hidden and wide is not None:
        hint = Text(f"--wide shows {', '.join(lay.hidden)}", style="dim")
        render.console(stderr=True).print(hint)
    return lay


def fields(rows: Sequence[Sequence[Any]], *, title: str | None = None) -> None:
    """A key/value table: keys in bold, each value beside its key, wrapped between
    words on a terminal (an id or URL is never split)."""
    import textwrap

    from rich.text import Text

    out = render.console()
    width = out.width if render.is_tty(sys.stdout) else None
    pairs = [(_plain(k), _plain(v)) for k, v, *_ in rows]
    key_width = max((len(k) for k, _ in pairs), default=0)
    lines: list[Text] = [] if title is None else [Text(render.cut(render.visible(title)))]
    for key, value in pairs:
        parts = [value]
        if width is not None and value:
            room = max(20, width - key_width - GAP)
            parts = textwrap.wrap(value, room, break_long_words=False, break_on_hyphens=False) or [
                value
            ]
        line = Text(key.ljust(key_width), style="bold")
        line.append(" " * GAP + parts[0])
        lines.append(line)
        lines.extend(Text(" " * (key_width + GAP) + part) for part in parts[1:])
    for line in lines:
        line.rstrip()
    out.print(Text("\n").join(lines), soft_wrap=True)


def _plain(value: Any) -> str:
    """A key/value table's value: controls shown, cut only when absurdly long."""
    return "" if value is None else render.cut(render.visible(value), FIELD_MAX)
