"""`jarvis batch`: run a JSONL file of requests (see core/runs/batch.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any

import typer

from jarvis_cli.cli import render
from jarvis_cli.cli.common import get_context
from jarvis_cli.core.errors import UsageError

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from jarvis_cli.core.runs.batch import BatchRunner, BatchSummary


def batch(
    input_file: Annotated[
        str,
        typer.Argument(
            metavar="IN",
            help='JSONL requests, one object a line: {"id", "prompt"} or {"id", "messages"}; '
            "- for stdin.",
        ),
    ],
    output: Annotated[
        str,
        typer.Option(
            "-o",
            "--output",
            metavar="OUT",
            help="JSONL results, one line per input line (- for stdout). Rerunning with the same "
            "file skips ids answered there and retries the rest.",
        ),
    ] = "-",
    concurrency: Annotated[
        int, typer.Option("--concurrency", help="Requests in flight at once (1-256).")
    ] = 8,
    max_total_cost: Annotated[
        float | None,
        typer.Option(
            "--max-total-cost",
            metavar="USD",
            help="Spend limit for this run; worst cases are reserved before sending.",
        ),
    ] = None,
    ordered: Annotated[
        bool, typer.Option("--ordered", help="Write results in input order.")
    ] = False,
    retries: Annotated[
        int | None,
        typer.Option("--retries", min=0, max=10, help="Retries per model (default: config.toml)."),
    ] = None,
    strategy: Annotated[
        str | None,
        typer.Option("--strategy", help="quality, balanced, cost, performance or reliability."),
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="Model for lines that name none.")
    ] = None,
    fallback: Annotated[
        list[str] | None,
        typer.Option("--fallback", help="Model tried after --model (repeatable; 'auto')."),
    ] = None,
    max_tokens: Annotated[
        int | None, typer.Option("--max-tokens", help="Answer limit for lines that set none.")
    ] = None,
    schema: Annotated[
        str | None,
        typer.Option(
            "--schema",
            metavar="SCHEMA",
            help="Answers must be JSON matching SCHEMA (as for complete) for lines that "
            'give no "schema"; the parsed answer is the line\'s "data".',
        ),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", min=0.1, help="Total seconds per line (default: config.toml)."),
    ] = None,
    json_output: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print the run's summary as one JSON object on stdout (needs -o FILE: "
            "with -o - stdout carries the results).",
        ),
    ] = False,
) -> None:
    """Run many requests from a JSONL file: routed, concurrent, within budget, resumable.

    Each output line has the id, then the answer, model_id, provider, usage,
    cost_usd, latency_ms and attempts, or an error with its class, message and
    exit code. A malformed line becomes an error line and the batch goes on; a
    missing or duplicate id stops it before anything is sent (exit 2). Exit 0: all
    answered; 10: some failed; 7: the budget was reached (the rest are written as
    budget_exceeded); 130: interrupted (rerun to resume).

    Example (eval.jsonl: {"id": "case-1", "prompt": "…"} a line; rerun it to resume):
      jarvis batch eval.jsonl -o results.jsonl --concurrency 32 --max-total-cost 5
    """
    from jarvis_cli.core.runs.batch import MAX_CONCURRENCY, BatchOptions, BatchRunner
    from jarvis_cli.core.runs.batch_io import scan_ids, spool_stdin

    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise UsageError(
            f"--concurrency must be between 1 and {MAX_CONCURRENCY}, not {concurrency}"
        )
    if max_total_cost is not None and max_total_cost < 0:
        raise UsageError("--max-total-cost must not be negative")
    if json_output and output == "-":
        raise UsageError(
            "--json prints the summary on stdout, which -o - gives to the results",
            hint="write the results to a file: -o results.jsonl --json",
        )
    spooled = None
    if input_file == "-":
        if sys.stdin.isatty():
            raise UsageError(
                "IN is - but standard input is a terminal", hint="pipe a JSONL file in"
            )
        spooled = in_path = spool_stdin()
    else:
        in_path = Path(input_file)
        try:
            regular, found, pipe = in_path.is_file(), in_path.exists(), in_path.is_fifo()
        except OSError as exc:  # a name too long, a path through a file
            raise UsageError(f"cannot read input file {input_file}: {exc.strerror}") from None
        if not (regular or pipe):  # a device (/dev/zero) would be spooled without end
            why = "is a directory" if in_path.is_dir() else "is not a file or a pipe"
            raise UsageError(f"input file {input_file} {why if found else 'not found'}")
        if pipe:  # `<(grep … in.jsonl)`: read once, as stdin is
            try:
                with open(in_path, "rb") as source:
                    spooled = in_path = spool_stdin(source)
            except OSError as exc:
                raise UsageError(f"cannot read input file {input_file}: {exc.strerror}") from None
    try:
        total = scan_ids(in_path)
        ctx = get_context()
        runner = BatchRunner(
            ctx,
            BatchOptions(
                concurrency=concurrency,
                max_total_cost_usd=max_total_cost,
                ordered=ordered,
                retries=retries,
                strategy=strategy,
                model=model,
                fallbacks=tuple(fallback or ()),
                max_tokens=max_tokens,
                timeout_s=timeout,
                schema=_parse_schema(schema),
            ),
            on_event=lambda _m: None,
        )
        try:
            summary = _run(runner, in_path, output, ordered, total)
        except KeyboardInterrupt:
            # The lines in flight were finished and written: say what was done (exit 130).
            sys.stderr.write("\n")
            summary = runner.summary
            summary.interrupted = True
    finally:
        if spooled is not None:
            os.unlink(spooled)
    _report(summary)
    if json_output:
        render.emit_json(summary.as_json())
    raise typer.Exit(int(summary.exit_code))


def _parse_schema(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    from jarvis_cli.core.runs.structured import parse_schema

    return parse_schema(text)


def _open_output(output: str, in_path: Path) -> tuple[IO[bytes], set[str]]:
    from jarvis_cli.core.runs.batch_io import load_answered

    if output == "-":
        return sys.stdout.buffer, set()
    path = Path(output)
    if path.is_dir():
        raise UsageError(f"output {output} is a directory")
    try:
        if path.exists() and path.samefile(in_path):  # resuming would rewrite the input
            raise UsageError(
                f"output {output} is the input file: the results would replace its lines",
                hint="write the results to another file: -o results.jsonl",
            )
        # Only a regular file is resumed: a device (/dev/null, /dev/full) is written to,
        # never scanned (/dev/full reads as endless zeros) or replaced.
        answered = load_answered(path) if path.is_file() else set()
        return path.open("ab"), answered
    except OSError as exc:  # a missing directory, a read-only file system
        raise UsageError(f"cannot write output {output}: {exc.strerror}") from None


def _run(
    runner: BatchRunner, in_path: Path, output: str, ordered: bool, total: int
) -> BatchSummary:
    from jarvis_cli.core.runs.batch_io import OutputWriter

    stream, answered = _open_output(output, in_path)
    if answered:
        render.message(f"jarvis: resuming: {len(answered)} line(s) answered earlier are skipped")
    writer = OutputWriter(stream, ordered=ordered)
    progress = _progress(total - len(answered)) if render.is_tty(sys.stderr) else None
    if progress is not None:
        bar, task = progress
        runner.on_line = lambda s: bar.update(
            task,
            completed=s.done,
            description=f"ok {s.answered} failed {s.failed + s.bad} ${s.cost_usd:.4f}",
        )
        bar.start()
    try:
        return runner.run(in_path, writer, answered)
    finally:
        if progress is not None:
            progress[0].stop()
        if stream is not sys.stdout.buffer:
            stream.close()


def _progress(total: int) -> tuple[Progress, TaskID]:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=render.console(stderr=True),
        transient=False,
    )
    task = bar.add_task("", total=total)
    return bar, task


def _report(summary: BatchSummary) -> None:
    s = summary.as_json()
    elapsed = s["elapsed_s"] or 1e-9
    render.message(
        f"jarvis: batch: {s['answered']} answered, {s['failed']} failed, "
        f"{s['bad_lines']} bad line(s), {s['budget_exceeded']} budget_exceeded, "
        f"{s['skipped']} skipped (answered earlier); {s['attempts']} attempt(s), "
        f"{_cost_text(summary)}, {s['elapsed_s']:.1f} s "
        f"({(s['answered'] + s['failed']) / elapsed:.1f} lines/s)"
        + ("; interrupted: rerun the same command to resume" if summary.interrupted else "")
    )
    if summary.store_cap is not None:
        render.message(
            f"jarvis: the PostgreSQL store had room for few connections: concurrency "
            f"{summary.concurrency} was capped at {summary.store_cap}"
        )
    for provider, limits in s["providers"].items():
        if limits["min_limit"] < summary.concurrency:
            render.message(
                f"jarvis: {render.visible(provider)}: rate limited (429): concurrency went "
                f"down to {limits['min_limit']} and is {limits['limit']} now"
            )


def _cost_text(summary: BatchSummary) -> str:
    """The run's cost; answers of models with unknown prices make it `unknown` (all) or
    a lower bound (some), never a silent $0."""
    if not summary.unpriced:
        return f"${summary.cost_usd:.4f}"
    if summary.unpriced == summary.answered:
        return "cost unknown (no price for the models used)"
    return f"${summary.cost_usd:.4f} + unknown ({summary.unpriced} answer(s) without a price)"
