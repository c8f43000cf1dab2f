"""`jarvis serve`: an OpenAI-compatible gateway; `jarvis serve tokens`: its client tokens."""

import os
from typing import Annotated

import typer

from jarvis_cli.cli import render
from jarvis_cli.cli.common import JsonOption, get_context

app = typer.Typer(
    add_completion=False,
    name="serve",
    help="Serve the OpenAI API on HTTP for agents and editors, with routing, fallbacks, budgets."
    "\n\nAgents and editors get jarvis's routing, fallbacks, budgets and vault. Clients "
    "authenticate with tokens from `jarvis serve tokens add`; provider keys never leave jarvis.",
    invoke_without_command=True,
)
tokens_app = typer.Typer(
    add_completion=False,
    name="tokens",
    help="Client tokens: one bearer token per client, only its hash stored, optional limits.",
    no_args_is_help=True,
)
app.add_typer(tokens_app)


@app.callback()
def serve(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option(help="Address to listen on (non-loopback needs client tokens).")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="Port (0: any free port, printed).")
    ] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, max=256, help="Server processes (e.g. the number of cores).")
    ] = 1,
) -> None:
    """Serve /v1/chat/completions, /v1/completions, /v1/embeddings, /v1/models, /healthz
    and /metrics. Model names: any usable PROVIDER/NAME, or jarvis/auto and
    jarvis/STRATEGY to let selection choose. The bound address is printed to stderr.
    SIGTERM or Ctrl-C stops accepting, lets requests in flight finish (up to 30 s), exits.
    """
    if ctx.invoked_subcommand is not None:
        return
    from jarvis_cli.core.errors import ConfigError, UsageError
    from jarvis_cli.serve.server import check_host, is_loopback, listen
    from jarvis_cli.serve.tokens import list_tokens

    check_host(host)
    context = get_context()
    has_tokens = bool(list_tokens(context.store))
    if not has_tokens:
        if not is_loopback(host):
            raise UsageError(
                f"refusing to serve on {host} without client tokens: anyone who can reach it "
                "could spend your provider keys",
                hint="`jarvis serve tokens add NAME` first, or listen on 127.0.0.1",
            )
        render.message(
            "jarvis serve: warning: no client tokens exist, so any program on this machine "
            "can use your providers through this server (`jarvis serve tokens add NAME`)"
        )
        os.environ["JARVIS_SERVE_OPEN"] = "1"
    else:
        os.environ.pop("JARVIS_SERVE_OPEN", None)
    context.close()
    # Fewer glibc malloc arenas for the worker processes: with a thread per request
    # the default (8 per core) lets RSS creep up for hours through fragmentation.
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")
    sock = listen(host, port)  # a UsageError naming the address when it cannot be bound
    try:
        from jarvis_cli.serve.server import serve as run_server

        run_server(sock, workers)
    except ImportError as exc:
        raise ConfigError(
            f"jarvis serve needs its server packages ({exc.name} is missing)",
            hint="install jarvis with its serve extra: pip install '.[serve]' in jarvis's checkout",
        ) from None


ModelsOption = Annotated[
    list[str] | None,
    typer.Option("--model", help="Allowed model pattern, e.g. 'openai/*' or 'jarvis/*' "
                 "(repeatable; default any)."),
]  # fmt: skip


@tokens_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="A name for the client, e.g. aider-laptop.")],
    model: ModelsOption = None,
    rpm: Annotated[int | None, typer.Option(min=1, help="Requests per minute.")] = None,
    concurrency: Annotated[
        int | None, typer.Option(min=1, help="Requests in flight at once.")
    ] = None,
    daily_usd: Annotated[
        float | None, typer.Option(min=0.0, help="Spend per UTC day, USD.")
    ] = None,
    monthly_usd: Annotated[
        float | None, typer.Option(min=0.0, help="Spend per UTC month, USD.")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Make a client token and print it once (only its hash is stored)."""
    from jarvis_cli.serve.tokens import TokenLimits, add_token

    limits = TokenLimits(tuple(model or ()), rpm, concurrency, daily_usd, monthly_usd)
    token, record = add_token(get_context().store, name, limits)
    _show_new(token, record.as_json(), json_output, "added")


def _show_new(token: str, data: dict[str, object], json_output: bool, verb: str) -> None:
    if json_output:
        render.emit_json({**data, "token": token})
        return
    print(token)
    render.message(
        f"jarvis: token {data['name']} {verb}; it is shown only now: give it to the client "
        "as its API key (Authorization: Bearer …)"
    )


@tokens_app.command("list")
def list_(
    all_: Annotated[bool, typer.Option("--all", help="Include revoked tokens.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Client tokens with their limits (never their values)."""
    from jarvis_cli.serve.tokens import list_tokens

    found = list_tokens(get_context().store, include_revoked=all_)
    if json_output:
        render.emit_json([t.as_json() for t in found])
        return
    if not found:
        render.message("jarvis: no client tokens (`jarvis serve tokens add NAME`)")
        return
    from jarvis_cli.cli import tables
    from jarvis_cli.cli.tables import ID, TEXT, Column

    rows = []
    for t in found:
        lim = t.limits
        parts = [
            f"models {','.join(lim.models)}" if lim.models else "any model",
            *([f"{lim.rpm}/min"] if lim.rpm else []),
            *([f"{lim.concurrency} at once"] if lim.concurrency else []),
            *([f"${lim.daily_usd:g}/day"] if lim.daily_usd is not None else []),
            *([f"${lim.monthly_usd:g}/month"] if lim.monthly_usd is not None else []),
        ]
        state = " (revoked)" if t.revoked_at else ""
        rows.append((t.name, f"{t.prefix}…", render.stamp(t.created_at), "; ".join(parts) + state))
    columns = [
        Column("name", ID),
        Column("token"),
        Column("created (UTC)", priority=1),
        Column("limits", TEXT),
    ]
    tables.table(columns, rows)


@tokens_app.command("revoke")
def revoke(
    name: Annotated[str, typer.Argument(help="The token's name.")],
    json_output: JsonOption = False,
) -> None:
    """Stop a token from working (servers notice within 2 s)."""
    from jarvis_cli.serve.tokens import revoke_token

    found = revoke_token(get_context().store, name)
    if json_output:
        render.emit_json(found.as_json())
    else:
        render.message(f"jarvis: token {name} revoked")


@tokens_app.command("rotate")
def rotate(
    name: Annotated[str, typer.Argument(help="The token's name.")],
    json_output: JsonOption = False,
) -> None:
    """Give a token a new value (same limits and usage); the old value stops working."""
    from jarvis_cli.serve.tokens import rotate_token

    token, record = rotate_token(get_context().store, name)
    _show_new(token, record.as_json(), json_output, "rotated")
