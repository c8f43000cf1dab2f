"""`jarvis rate`: say how good an answer was, so selection learns from it."""

from typing import Annotated

import typer

from jarvis_cli.cli import render
from jarvis_cli.cli.common import JsonOption, get_context


def rate(
    first: Annotated[
        str,
        typer.Argument(
            help="good, bad or a score from 0 to 1 (rates the last request), or a request "
            "id (or a unique prefix) followed by the rating.",
            metavar="RATING|ID",
            show_default=False,
        ),
    ],
    second: Annotated[
        str | None,
        typer.Argument(
            help="The rating, when an id comes first.", metavar="RATING", show_default=False
        ),
    ] = None,
    note: Annotated[
        str | None, typer.Option("--note", help="Why (kept with the outcome).", show_default=False)
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Rate an answer (good, bad or 0..1): selection learns from it.

    The model that gave it scores that much for this kind of prompt.

    Rating the same request again replaces the earlier rating. See and undo with
    `jarvis outcomes list` / `jarvis outcomes delete --request ID`.

    Examples: jarvis rate good;  jarvis rate 3f2a bad --note "wrong total";  jarvis rate 0.7
    """
    from jarvis_cli.core.runs.outcomes import find_request, parse_score, record

    ref, rating = (None, first) if second is None else (first, second)
    score = parse_score(rating)
    ctx = get_context()
    request_id, model_id, prompt, output_tokens = find_request(ctx.store.conn, ref)
    record(
        ctx.store,
        request_id=request_id,
        model_id=model_id,
        score=score,
        source="rate",
        prompt=prompt,
        keep_prompt=ctx.config.log.content,
        note=note,
        output_tokens=output_tokens,
    )
    if json_output:
        render.emit_json({"request_id": request_id, "model": model_id, "score": score})
    else:
        render.message(f"rated {request_id[:12]} ({model_id}): {score:g}")
