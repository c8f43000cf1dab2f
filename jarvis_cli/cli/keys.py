"""`jarvis keys`: provider API keys in the encrypted vault."""

import sys
from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated, Any

import typer

from jarvis_cli.cli import render, tables
from jarvis_cli.cli.common import JsonOption, WideOption, get_context
from jarvis_cli.cli.prompt import confirm, read_secret
from jarvis_cli.core.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from jarvis_cli.core.vault.keys import KeyManager
    from jarvis_cli.core.vault.records import KeyInfo

app = typer.Typer(
    add_completion=False,
    name="keys",
    help="Provider API keys: stored encrypted (AES-256-GCM) under a master key.",
    no_args_is_help=True,
)

ProviderArg = Annotated[
    str, typer.Argument(help="Provider name, e.g. openai (see `jarvis providers list`).")
]
OptionalProviderArg = Annotated[
    str | None, typer.Argument(help="Only this provider (default: all).", show_default=False)
]
LabelOption = Annotated[
    str, typer.Option("--label", "-l", help="Which of the provider's keys (several may be stored).")
]
StdinOption = Annotated[
    bool, typer.Option("--stdin", help="Read the key from one line of stdin instead of a prompt.")
]
# A key typed after the provider would otherwise be echoed back by Click's "unexpected
# extra argument" error; catch it and refuse without repeating it.
StrayArgs = Annotated[list[str] | None, typer.Argument(hidden=True, show_default=False)]
NoValidateOption = Annotated[
    bool,
    typer.Option("--no-validate", help="Store the key without asking the provider if it works."),
]


def _manager() -> "KeyManager":
    from jarvis_cli.core.vault.keys import KeyManager

    return KeyManager(get_context(), warn=render.warn)


def _refuse_key_in_argv(stray: list[str] | None) -> None:
    if stray:
        from jarvis_cli.core.redact import register_secret

        for value in stray:
            register_secret(value)
        raise UsageError(
            "keys are never taken from the command line (shell history and /proc would "
            "keep them); the extra argument was ignored",
            hint="use the hidden prompt, or --stdin",
        )


def _check_target(manager: "KeyManager", provider: str, label: str) -> None:
    """An unknown provider or a bad label (a pasted key, say) fails before the prompt."""
    from jarvis_cli.core.vault.records import check_label

    manager.spec(provider)
    check_label(label)


def _validated_note(validate: bool) -> str:
    return "checked with the provider" if validate else "not checked (--no-validate)"


@app.command("add")
def add(
    provider: ProviderArg,
    label: LabelOption = "default",
    stdin: StdinOption = False,
    no_validate: NoValidateOption = False,
    stray: StrayArgs = None,
) -> None:
    """Store a key for PROVIDER (replacing one with the same label).

    The key is read from a hidden prompt, or from stdin with --stdin; never from argv.
    Unless --no-validate, the provider is asked first (GET /models); a rejected key is
    not stored (exit 5).
    """
    _refuse_key_in_argv(stray)
    manager = _manager()
    _check_target(manager, provider, label)  # fail before asking for a secret
    value = read_secret(
        f"{provider} API key", from_stdin=stdin, command=f"jarvis keys add {provider}"
    )
    info = manager.add(provider, value, label, validate=not no_validate)
    render.message(
        f"stored {info.provider}/{info.label} ({info.fingerprint}), "
        + _validated_note(not no_validate)
    )


@app.command("rotate")
def rotate(
    provider: ProviderArg,
    label: LabelOption = "default",
    stdin: StdinOption = False,
    no_validate: NoValidateOption = False,
    stray: StrayArgs = None,
) -> None:
    """Replace an existing key with a new one, atomically.

    The new key is checked with the provider first (unless --no-validate); if it is
    rejected (exit 5) or the provider cannot be reached (exit 8), nothing changes.
    """
    _refuse_key_in_argv(stray)
    manager = _manager()
    _check_target(manager, provider, label)
    value = read_secret(
        f"new {provider} API key", from_stdin=stdin, command=f"jarvis keys rotate {provider}"
    )
    info = manager.rotate(provider, value, label, validate=not no_validate)
    render.message(
        f"rotated {info.provider}/{info.label} to {info.fingerprint} "
        f"(rotation {info.rotation_count}), {_validated_note(not no_validate)}"
    )


@app.command("delete")
def delete(
    provider: ProviderArg,
    label: LabelOption = "default",
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a stored key (asks first on a terminal; scripts pass --yes)."""
    manager = _manager()
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError(
                f"refusing to delete {provider}/{label} without confirmation",
                hint="pass --yes",
            )
        if not confirm(f"delete the {provider}/{label} key?"):
            render.message("nothing deleted")
            raise typer.Exit(int(ExitCode.USAGE))
    manager.delete(provider, label)
    render.message(f"deleted {provider}/{label}")


def _key_json(k: "KeyInfo") -> dict[str, Any]:
    data = k._asdict()
    for name in ("created", "updated", "last_used"):
        data[name] = render.iso(data[name])
    return data


@app.command("list")
def list_keys(
    provider: OptionalProviderArg = None, wide: WideOption = False, json_output: JsonOption = False
) -> None:
    """List keys (vault and environment) without decrypting any of them."""
    keys = _manager().list_keys(provider)
    if json_output:
        render.emit_json([_key_json(k) for k in keys])
        return
    if not keys:
        render.message("no keys; add one with `jarvis keys add PROVIDER`")
        return
    from jarvis_cli.cli.tables import ID, NUM, Column

    tables.table(
        [
            Column("provider", ID),
            Column("label", ID),
            Column("key"),
            Column("source"),
            Column("status"),
            Column("created", priority=3),
            Column("updated", priority=4),
            Column("last used", priority=1),
            Column("uses", NUM, priority=2),
            Column("rotations", NUM, priority=5),
        ],
        [
            (
                k.provider,
                k.label,
                k.fingerprint,
                k.source
                + ("" if k.env_var is None else f" ({k.env_var})")
                + ("" if k.in_use else " (overridden)"),
                k.status,
                render.stamp(k.created),
                render.stamp(k.updated),
                render.stamp(k.last_used),
                k.usage_count,
                k.rotation_count,
            )
            for k in keys
        ],
        wide=wide,
    )


@app.command("validate")
def validate(
    provider: OptionalProviderArg = None,
    label: Annotated[
        str | None,
        typer.Option("--label", "-l", help="Check this vault label (default: the key in use)."),
    ] = None,
    wide: WideOption = False,
    json_output: JsonOption = False,
) -> None:
    """Ask each provider whether its key works (GET /models).

    Exit 5 if a key is rejected, 4 if a stored key fails to open, 8 if a provider
    cannot be reached.
    """
    from jarvis_cli.core.vault.validation import validate_keys

    results = validate_keys(_manager(), provider, label)
    if json_output:
        render.emit_json([asdict(r) for r in results])
    elif not results:
        render.message("no keys to check")
    else:
        from jarvis_cli.cli.tables import ID, TEXT, Column

        tables.table(
            [
                Column("provider", ID),
                Column("label", ID),
                Column("source", priority=1),
                Column("key"),
                Column("result"),
                Column("message", TEXT, min_width=20),
            ],
            [
                (r.provider, r.label or "", r.source, r.fingerprint, r.result, r.message or "")
                for r in results
            ],
            wide=wide,
        )
    for r in results:
        if not r.ok:
            render.message(f"error: {r.provider}/{r.label or r.source}: {r.message}")
    # Worst first: a vault problem, then a rejected key, then anything else.
    codes = {r.exit_code for r in results if r.exit_code}
    for code in (ExitCode.VAULT, ExitCode.AUTH):
        if code in codes:
            raise typer.Exit(int(code))
    if codes:
        raise typer.Exit(max(codes))


@app.command("history")
def history(provider: OptionalProviderArg = None, json_output: JsonOption = False) -> None:
    """Show the audit trail: keys added, replaced, rotated, deleted, validated, re-sealed."""
    from jarvis_cli.core.redact import secret_shaped

    if provider is not None and secret_shaped(provider):
        # History outlives providers, so names are not checked; a pasted key is refused.
        raise UsageError(f"unknown provider {provider!r}")
    events = _manager().history(provider)
    if json_output:
        render.emit_json([{**e._asdict(), "at": render.iso(e.at)} for e in events])
        return
    if not events:
        render.message("no key events yet")
        return
    from jarvis_cli.cli.tables import ID, TEXT, Column

    tables.table(
        [
            Column("at (UTC)"),
            Column("provider", ID),
            Column("label", ID),
            Column("event"),
            Column("detail", TEXT, min_width=20),
        ],
        [(render.stamp(e.at), e.provider, e.label, e.event, e.detail or "") for e in events],
    )


@app.command("rekey")
def rekey(
    new_key_stdin: Annotated[
        bool,
        typer.Option(
            "--new-key-stdin",
            help="Read the new master key (base64 of 32 bytes) from stdin instead of "
            "generating one; required when the master key comes from JARVIS_MASTER_KEY.",
        ),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Re-seal every stored key under a new master key, in one verified transaction.

    The old master key is retired only after the commit; a crash at any point leaves
    every key decryptable.
    """
    from jarvis_cli.core.vault.master_keys import decode_master_key

    new_key = None
    if new_key_stdin:
        text = read_secret("new master key", from_stdin=True, command="jarvis keys rekey")
        new_key = decode_master_key(text, "the new master key on stdin")
    result = _manager().rekey(new_key)
    if json_output:
        render.emit_json(result._asdict())
    render.message(
        f"re-sealed {result.rekeyed} key(s) under master key {result.new_key_id} "
        f"(was {result.old_key_id}); it is in {result.where}"
    )
    if result.source == "env":
        render.warn(
            "set JARVIS_MASTER_KEY to the new key now: the stored keys no longer open with "
            "the old one"
        )
