"""`jarvis doctor`."""

import typer

from jarvis_cli.cli import render, tables
from jarvis_cli.cli.common import JsonOption, get_context


def doctor(json_output: JsonOption = False) -> None:
    """Show version, paths, store and config health, master-key source and providers.

    Exits 0 when all is well, otherwise with the exit code of the first problem found.
    """
    from jarvis_cli.core.doctor import doctor_exit_code, run_doctor

    report = run_doctor(get_context())
    data = report.as_json()
    if json_output:
        render.emit_json(data)
    else:
        rows = [
            ("version", data["version"]),
            ("python", data["python"]),
            ("config dir", data["paths"]["config_dir"]),
            ("data dir", data["paths"]["data_dir"]),
            ("config file", _describe_file(data["config"])),
            ("store", _describe_store(data["store"])),
            ("master key", f"{data['master_key']['source']} ({data['master_key']['detail']})"),
            (
                "providers",
                ", ".join(map(_describe_provider, data["providers"]))
                or "none configured and no keys yet (see `jarvis providers list`)",
            ),
        ]
        tables.table(["", ""], rows, title="jarvis doctor")
        for p in report.problems:
            render.message(f"error: {p.what}: {p.message}")
            if p.hint:
                render.message(f"hint: {p.hint}")
    code = doctor_exit_code(report)
    if code:
        raise typer.Exit(code)


def _describe_file(info: dict[str, object]) -> str:
    if not info["exists"]:
        return f"{info['path']} (not created yet)"
    state = "" if info.get("valid", True) else ", INVALID"
    return f"{info['path']} (mode {info['mode']}{state})"


def _describe_store(info: dict[str, object]) -> str:
    if info.get("backend") == "postgresql":
        state = (
            f"schema {info['schema_version']}/{info['expected_schema_version']}"
            if info["reachable"]
            else "UNREACHABLE"
        )
        logged = info.get("logged_requests")
        state += "" if logged is None else f", {logged:,} logged requests"
        return f"PostgreSQL {info['url']} (set by {info['set_by']}; {state})"
    if not info["exists"]:
        return f"{info['path']} (not created yet)"
    size = info.get("size_bytes")
    shown = "" if not isinstance(size, int) else f", {size / 1_048_576:,.1f} MiB"
    logged = info.get("logged_requests")
    shown += "" if logged is None else f", {logged:,} logged requests"
    integrity = {"ok": ", integrity ok", "damaged": ", integrity DAMAGED"}
    return (
        f"{info['path']} (mode {info['mode']}, schema {info['schema_version']}"
        f"/{info['expected_schema_version']}{integrity.get(str(info.get('integrity')), '')}"
        f"{shown})"
    )


_URL_PASSWORD_WHERE = {
    "vault": "in the vault",
    "env": "from the environment",
    "config.toml": "in config.toml, in clear",
    "missing": "missing",
}


def _describe_provider(p: dict[str, object]) -> str:
    key = p["key_source"] or ("not needed" if not p["needs_key"] else "no key")
    if p.get("url_credential") == "config.toml" and not p["key_source"]:
        key = "the URL's password"
    where = ""
    if p.get("url_credential"):  # the URL shows the password as ***; say where it is
        where = "; URL password " + _URL_PASSWORD_WHERE.get(
            str(p["url_credential"]), str(p["url_credential"])
        )
    return f"{p['name']} {p['base_url']} (key: {key}{where})"
