"""`jarvis providers`: built-in presets and user providers from config.toml."""

import copy
import re
from typing import TYPE_CHECKING, Annotated, Any

import typer

from jarvis_cli.cli import render, tables
from jarvis_cli.cli.common import JsonOption, WideOption, get_context
from jarvis_cli.core.errors import UsageError

if TYPE_CHECKING:
    from jarvis_cli.core.providers.manager import ProviderManager
    from jarvis_cli.core.providers.presets import ProviderSpec

app = typer.Typer(
    add_completion=False,
    name="providers",
    help="Providers: built-in OpenAI-compatible presets and your own endpoints.",
    no_args_is_help=True,
)

NameArg = Annotated[str, typer.Argument(help="Provider name, e.g. openai or my-vllm.")]
_HEADER = re.compile(r"^([A-Za-z0-9-]+)\s*[:=]\s*(.*)$")


def _manager() -> "ProviderManager":
    from jarvis_cli.core.providers.manager import ProviderManager
    from jarvis_cli.core.vault.keys import KeyManager

    ctx = get_context()
    return ProviderManager(ctx, KeyManager(ctx))


def provider_json(manager: "ProviderManager", spec: "ProviderSpec") -> dict[str, Any]:
    """The stable JSON shape of one provider (header values are never shown)."""
    from jarvis_cli.core.providers.presets import url_credential_source

    configured = spec.name in manager.ctx.config.providers
    key_source = manager.keys.availability(spec)
    return {
        "name": spec.name,
        "base_url": spec.display_url,  # never with a password: http://user:***@host
        "url_credential": url_credential_source(spec, key_source),
        "needs_key": spec.needs_key,
        "api_key_env": spec.api_key_env,
        "key_env_vars": list(spec.key_env_vars()),
        "key_source": key_source,
        "send_openai_org": spec.send_openai_org,
        "builtin": spec.builtin or _is_preset(spec.name),
        "configured": configured,
        "headers": sorted(spec.headers),
        "secret_headers": sorted(spec.secret_headers, key=str.lower),
        "timeout_s": spec.timeout_s,
        "catalog_provider": spec.catalog_provider,
        "description": spec.description,
    }


def _is_preset(name: str) -> bool:
    from jarvis_cli.core.providers.presets import PRESETS

    return name in PRESETS


def _origin(data: dict[str, Any]) -> str:
    if data["builtin"] and data["configured"]:
        return "built-in + config"
    return "built-in" if data["builtin"] else "config"


def _key_text(data: dict[str, Any]) -> str:
    if data["key_source"]:
        return str(data["key_source"])
    if data["url_credential"] == "config.toml":
        return "config.toml (in the URL)"
    return "not needed" if not data["needs_key"] else "missing"


def _credential_text(where: str, name: str) -> str:
    return {
        "vault": f"in the vault (as the key {name}/default)",
        "env": "from the environment (the key variable)",
        "config.toml": "in config.toml, in clear: move it with `jarvis keys add "
        f"{name}`, then drop it from base_url",
    }.get(where, f"missing: add it with `jarvis keys add {name}`")


@app.command("list")
def list_providers(wide: WideOption = False, json_output: JsonOption = False) -> None:
    """List every provider: built-in presets and those in config.toml, with key status."""
    manager = _manager()
    data = [provider_json(manager, s) for _, s in sorted(manager.specs().items())]
    if json_output:
        render.emit_json({"providers": data})
        return
    from jarvis_cli.cli.tables import ID, Column

    tables.table(
        [Column("provider", ID), Column("key"), Column("from", priority=1), Column("base url", ID)],
        [(d["name"], _key_text(d), _origin(d), d["base_url"]) for d in data],
        wide=wide,
    )


@app.command("show")
def show(name: NameArg, json_output: JsonOption = False) -> None:
    """Show one provider's settings and where its key would come from."""
    manager = _manager()
    data = provider_json(manager, manager.spec(name))
    if json_output:
        render.emit_json(data)
        return
    rows = [
        ("name", data["name"]),
        ("description", data["description"]),
        ("base url", data["base_url"]),
        ("key", _key_text(data)),
        *(
            [("url password", _credential_text(data["url_credential"], name))]
            if data["url_credential"]
            else []
        ),
        ("key variables", ", ".join(data["key_env_vars"])),
        ("from", _origin(data)),
        (
            "headers",
            ", ".join([*data["headers"], *(f"{h}: ***" for h in data["secret_headers"])]) or "-",
        ),
        ("timeout", f"{data['timeout_s']:g} s" if data["timeout_s"] else "default"),
    ]
    tables.table(["", ""], rows, title=f"provider {name}")


def _check_name(name: str) -> None:
    from jarvis_cli.core.redact import secret_shaped
    from jarvis_cli.core.store.config_schema import NAME_RE

    if not NAME_RE.match(name) or secret_shaped(name):
        raise UsageError(
            f"bad provider name {name!r}: use lowercase letters, digits, '-' or '_' "
            "(at most 40, starting with a letter or digit)"
        )


def _parse_headers(headers: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in headers:
        match = _HEADER.match(item)
        if not match:
            raise UsageError(f"bad --header {item.split(':')[0]!r}: expected 'Name: value'")
        out[match.group(1)] = match.group(2).strip()
    return out


@app.command("add")
def add(
    name: NameArg,
    base_url: Annotated[
        str, typer.Option("--base-url", help="The endpoint's base URL, e.g. http://host:8000/v1.")
    ],
    api_key_env: Annotated[
        str | None,
        typer.Option("--api-key-env", help="Environment variable that holds its key."),
    ] = None,
    no_key: Annotated[
        bool,
        typer.Option(
            "--no-key",
            help="The endpoint needs no API key (the default for loopback and private "
            "addresses unless --api-key-env is given).",
        ),
    ] = False,
    header: Annotated[
        list[str] | None,
        typer.Option(
            "--header",
            help="Extra HTTP header 'Name: value' (repeatable). Authorization, "
            "Proxy-Authorization, api-key and x-api-key are sealed in the vault.",
        ),
    ] = None,
    secret_header: Annotated[
        list[str] | None,
        typer.Option(
            "--secret-header",
            help="A header NAME whose value is a credential: read from a hidden prompt (or "
            "stdin with --stdin) and sealed in the vault, never in config.toml (repeatable).",
        ),
    ] = None,
    stdin: Annotated[
        bool,
        typer.Option("--stdin", help="Read --secret-header values from stdin, one per line."),
    ] = False,
    timeout: Annotated[
        float | None, typer.Option("--timeout", help="Request timeout in seconds.", min=0.1)
    ] = None,
) -> None:
    """Add a provider to config.toml, or override a built-in preset's settings.

    A password in the URL (http://user:PASS@host/v1) is stored in the vault as the
    provider's key, never in config.toml; requests send it as HTTP Basic auth. So are
    credential headers: --secret-header NAME (the value from a prompt or --stdin), or
    --header with Authorization, Proxy-Authorization, api-key or x-api-key; they are
    shown as ***.
    """
    from jarvis_cli.core.providers.presets import ProviderSpec, check_base_url, split_url_password
    from jarvis_cli.core.redact import register_secret
    from jarvis_cli.core.store.config import save_raw
    from jarvis_cli.core.store.config_schema import ENV_NAME_RE

    _check_name(name)
    check_base_url(base_url)
    if api_key_env is not None and not ENV_NAME_RE.match(api_key_env):
        raise UsageError(f"bad --api-key-env {api_key_env!r}: not an environment variable name")
    ctx = get_context()
    raw: dict[str, Any] = copy.deepcopy(dict(ctx.config.raw))
    providers = raw.setdefault("providers", {})
    existed = name in providers
    entry: dict[str, Any] = dict(providers.get(name, {}))
    url, password = split_url_password(base_url.rstrip("/"))
    if password:
        register_secret(password)
    entry["base_url"] = url
    if api_key_env is not None:
        entry["api_key_env"] = api_key_env
    # A server on this machine or the local network rarely checks keys: asking for one
    # made `jarvis complete` fail with "no key" right after adding it.
    assumed_keyless = (
        not no_key
        and api_key_env is None
        and "needs_key" not in entry
        and not _is_preset(name)
        and not password
        and _is_private_url(base_url)
    )
    if no_key or assumed_keyless:
        entry["needs_key"] = False
    sealed = _sealed_headers(name, header or [], secret_header or [], stdin)
    if header or sealed:
        _set_headers(entry, _parse_headers(header or []), sealed)
    if sealed and api_key_env is None and "needs_key" not in entry and not _is_preset(name):
        entry["needs_key"] = False  # the sealed header is the credential
    if timeout is not None:
        entry["timeout_s"] = timeout
    providers[name] = entry
    save_raw(ctx.paths.config_file, raw)
    what = "updated" if existed else ("overrode built-in" if _is_preset(name) else "added")
    shown = ProviderSpec(name, url).display_url
    keyless = entry.get("needs_key") is False or api_key_env  # else: the vault's key
    keyed = "" if keyless else f"`jarvis keys add {name}`, then "
    nxt = "" if existed else f"; next: {keyed}`jarvis models sync {name}` to list its models"
    render.message(f"{what} provider {name} ({shown}) in {ctx.paths.config_file}{nxt}")
    if assumed_keyless:
        render.message(
            f"{name} needs no API key: {shown} is a loopback or private address "
            f"(if it does need one, store it with `jarvis keys add {name}`)"
        )
    if password:
        _store_url_password(name, password)
    if sealed:
        _store_headers(name, sealed)


def _sealed_headers(
    provider: str, header: list[str], secret_header: list[str], stdin: bool
) -> dict[str, str]:
    """Credential headers to seal: those of --header named like one (warned about: argv is
    visible to other processes) and every --secret-header, read from a prompt or stdin."""
    from jarvis_cli.cli.prompt import read_secret
    from jarvis_cli.core.providers.header_secrets import is_credential, register_value

    out = {n: v for n, v in _parse_headers(header).items() if is_credential(n)}
    for name, value in out.items():
        register_value(value)
        render.warn(
            f"the value of --header {name} was on the command line, where other processes "
            f"and shell history can see it; it is sealed in the vault, not written to "
            f"config.toml (next time: --secret-header {name}, typed at the prompt)"
        )
    for name in secret_header:
        if not re.match(r"^[A-Za-z0-9-]{1,32}$", name):
            raise UsageError(f"bad --secret-header {name!r}: expected a header name")
        value = read_secret(
            f"{name} header of {provider}",
            from_stdin=stdin,
            command=f"jarvis providers add {provider} --base-url URL --secret-header {name}",
        )
        register_value(value)
        out[name] = value
    return out


def _set_headers(entry: dict[str, Any], plain: dict[str, str], sealed: dict[str, str]) -> None:
    """config.toml's headers: plain ones by value, sealed ones by name only."""
    lowered = {n.lower() for n in sealed}
    headers = {**entry.get("headers", {}), **plain}
    headers = {n: v for n, v in headers.items() if n.lower() not in lowered}
    names = {n.lower(): n for n in [*entry.get("secret_headers", []), *sealed]}
    entry["headers"] = headers
    if not headers:
        del entry["headers"]
    if names:
        entry["secret_headers"] = sorted(names.values(), key=str.lower)


def _store_headers(name: str, sealed: dict[str, str]) -> None:
    """Seal each credential header in the vault as the key `header.<name>` of `name`."""
    from jarvis_cli.cli.common import reset_context
    from jarvis_cli.core.providers.header_secrets import header_label
    from jarvis_cli.core.vault.keys import KeyManager

    reset_context()  # the provider exists only in the config just written
    keys = KeyManager(get_context(), warn=render.warn)
    for header, value in sealed.items():
        info = keys.add(name, value, header_label(header), validate=False)
        render.message(
            f"the {header} header is in the vault as {info.provider}/{info.label} (shown as "
            "***), not in config.toml"
        )


def _is_private_url(url: str) -> bool:
    """Whether `url` points at this machine or a private network (localhost, 127/8, ::1,
    10/8, 172.16/12, 192.168/16, link-local, *.local, *.localhost)."""
    import ipaddress
    from urllib.parse import urlsplit

    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    if host == "localhost" or host.endswith((".localhost", ".local")):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return ip.is_loopback or ip.is_private or ip.is_link_local


def _store_url_password(name: str, password: str) -> None:
    """Seal a base URL's password in the vault as the provider's default key."""
    from jarvis_cli.cli.common import reset_context
    from jarvis_cli.core.errors import JarvisError
    from jarvis_cli.core.vault.keys import KeyManager

    reset_context()  # the provider exists only in the config just written
    try:
        info = KeyManager(get_context(), warn=render.warn).add(name, password, validate=False)
    except JarvisError as exc:
        exc.hint = (f"{exc.hint}; " if exc.hint else "") + (
            f"the password was not stored: add it with `jarvis keys add {name}`"
        )
        raise
    render.message(
        f"the URL's password is in the vault as the key {info.provider}/{info.label}, "
        "not in config.toml; requests send it as HTTP Basic auth"
    )


@app.command("remove")
def remove(name: NameArg) -> None:
    """Remove a provider from config.toml (built-in presets can only lose your overrides)."""
    from jarvis_cli.core.store.config import save_raw

    ctx = get_context()
    raw: dict[str, Any] = copy.deepcopy(dict(ctx.config.raw))
    providers = raw.get("providers", {})
    if name not in providers:
        if _is_preset(name):
            raise UsageError(
                f"{name!r} is a built-in provider and cannot be removed",
                hint="only providers (or overrides) you added in config.toml can be removed",
            )
        raise UsageError(f"unknown provider {name!r}", hint="see `jarvis providers list`")
    kept = [] if _is_preset(name) else _vault_labels(name)
    del providers[name]
    if not providers:
        del raw["providers"]
    save_raw(ctx.paths.config_file, raw)
    if _is_preset(name):
        render.message(f"removed your overrides of built-in provider {name}")
    else:
        render.message(f"removed provider {name}")
    if kept:
        render.message(
            f"its vault keys stay, in case you add it again: {', '.join(kept)}; "
            f"`jarvis keys delete {name} --label LABEL --yes` deletes one"
        )


def _vault_labels(name: str) -> list[str]:
    """The labels of `name`'s keys in the vault (API keys, sealed headers); never decrypts."""
    from jarvis_cli.core.vault.keys import KeyManager

    if not get_context().store_exists():
        return []
    return [k.label for k in KeyManager(get_context()).list_keys(name) if k.source == "vault"]
