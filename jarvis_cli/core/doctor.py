"""`jarvis doctor`: a read-mostly report of the setup, for anyone debugging it.

It never imports openai, keyring or cryptography, and never creates files.
"""

from __future__ import annotations

import platform
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jarvis_cli import __version__
from jarvis_cli.core.context import Context
from jarvis_cli.core.errors import ExitCode, JarvisError
from jarvis_cli.core.store.migrations import SCHEMA_VERSION


@dataclass
class Problem:
    what: str
    message: str
    exit_code: int
    hint: str | None = None


@dataclass
class DoctorReport:
    data: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        out = dict(self.data)
        out["problems"] = [
            {"what": p.what, "message": p.message, "hint": p.hint, "exit_code": p.exit_code}
            for p in self.problems
        ]
        out["ok"] = not self.problems
        return out


def _file_info(path: Path) -> dict[str, Any]:
    try:
        st = path.stat()
    except (FileNotFoundError, NotADirectoryError):  # a JARVIS_HOME that is a file: below
        return {"path": str(path), "exists": False, "mode": None}
    return {"path": str(path), "exists": True, "mode": f"{stat.S_IMODE(st.st_mode):04o}"}


def run_doctor(ctx: Context) -> DoctorReport:
    """Collect version, paths, config and store health, master-key source and providers."""
    report = DoctorReport()
    d = report.data
    d["version"] = __version__
    d["python"] = platform.python_version()
    d["paths"] = {
        "config_dir": str(ctx.paths.config_dir),
        "data_dir": str(ctx.paths.data_dir),
    }

    config_info = _file_info(ctx.paths.config_file)
    try:
        config = ctx.config
        config_info["valid"] = True
    except JarvisError as exc:
        config = None
        config_info["valid"] = False
        report.problems.append(Problem("config", exc.message, int(exc.exit_code), exc.hint))
    d["config"] = config_info

    try:
        team_store = ctx.store_url
    except JarvisError as exc:  # a bad config.toml is reported above; a bad URL here
        team_store = None
        if config is not None:
            report.problems.append(Problem("store", exc.message, int(exc.exit_code), exc.hint))
    if team_store is not None:
        d["store"] = _team_store_info(ctx, team_store, report)
        return _finish(ctx, report, config)
    store_info = _file_info(ctx.paths.db_file)
    store_info["backend"] = "sqlite"
    store_info["expected_schema_version"] = SCHEMA_VERSION
    store_info["schema_version"] = None
    store_info["integrity"] = None  # not checked: no store, or it did not open
    if store_info["exists"]:
        from jarvis_cli.core.store.integrity import check_sqlite_store

        try:
            found: JarvisError | None = check_sqlite_store(ctx.store, store_info)
        except JarvisError as exc:  # it did not open: not a database, not ours, unsafe modes
            found = exc
        if found is not None:
            report.problems.append(
                Problem("store", found.message, int(found.exit_code), found.hint)
            )
    if store_info["exists"]:
        # The database with its WAL and shared-memory files: what the store takes on disk.
        store_info["size_bytes"] = sum(
            p.stat().st_size
            for p in (
                ctx.paths.db_file,
                *(
                    ctx.paths.db_file.with_name(ctx.paths.db_file.name + s)
                    for s in ("-wal", "-shm")
                ),
            )
            if p.exists()
        )
    d["store"] = store_info
    return _finish(ctx, report, config)


def _team_store_info(ctx: Context, found: tuple[str, str], report: DoctorReport) -> dict[str, Any]:
    """The PostgreSQL store: its URL with the password as ***, where it was set, and
    whether it answers (connecting also brings its schema up to date)."""
    from jarvis_cli.core.store.url import redact_url

    info: dict[str, Any] = {
        "backend": "postgresql",
        "url": redact_url(found[0]),
        "set_by": found[1],
        "reachable": False,
        "expected_schema_version": SCHEMA_VERSION,
        "schema_version": None,
    }
    try:
        info["schema_version"] = ctx.store.schema_version()
        info["reachable"] = True
        info["logged_requests"] = ctx.store.conn.execute(
            "SELECT count(*) FROM log_requests"
        ).fetchone()[0]
    except JarvisError as exc:
        report.problems.append(Problem("store", exc.message, int(exc.exit_code), exc.hint))
    return info


def _finish(ctx: Context, report: DoctorReport, config: Any) -> DoctorReport:
    d = report.data
    d["master_key"] = describe_master_key(ctx)
    key_problem = d["master_key"].get("problem")
    if key_problem:
        report.problems.append(
            Problem("master key", key_problem["message"], key_problem["exit_code"])
        )
    if config is not None:
        d["providers"] = describe_providers(ctx)
    else:
        d["providers"] = []
    return report


def describe_master_key(ctx: Context) -> dict[str, Any]:
    """Which master-key source is in use, without probing the keyring (that can take seconds).

    The source and id last used to seal a key are recorded in the store's meta table by
    the vault; "problem" is set (with its exit code) when the master key is unusable.
    """
    from jarvis_cli.core.vault.master_keys import decode_master_key
    from jarvis_cli.core.vault.sealing import (
        MASTER_KEY_ENV,
        META_KEY_ID,
        META_SOURCE,
        master_key_id,
    )

    recorded_source = recorded_id = None
    if ctx.store_exists():
        try:
            recorded_source = ctx.store.get_meta(META_SOURCE)
            recorded_id = ctx.store.get_meta(META_KEY_ID)
        except JarvisError:
            pass  # reported under "store"
    info: dict[str, Any] = {
        "source": "none",
        "detail": "no master key yet: the first `jarvis keys add` creates one in the OS "
        f"keyring if a secure backend answers, else in {ctx.paths.master_key_file}",
        "key_id": None,
        "sealed_with": recorded_id,
        "problem": None,
    }
    key_file = ctx.paths.master_key_file
    try:
        if ctx.env.get(MASTER_KEY_ENV):
            info.update(source="env", detail=MASTER_KEY_ENV)
            info["key_id"] = master_key_id(
                decode_master_key(ctx.env[MASTER_KEY_ENV], MASTER_KEY_ENV)
            )
        elif recorded_source == "keyring":
            info.update(source="keyring", detail="OS keyring (last used; not probed by doctor)")
            info["key_id"] = recorded_id
        elif key_file.exists():
            info.update(source="file", detail=str(key_file))
            from jarvis_cli.core.vault.master_keys import KeyFileStore

            key = KeyFileStore(key_file).read("current")
            info["key_id"] = None if key is None else master_key_id(key)
    except JarvisError as exc:
        info["problem"] = {"message": exc.message, "exit_code": int(exc.exit_code)}
        return info
    if recorded_id and info["key_id"] and info["key_id"] != recorded_id:
        info["problem"] = {
            "message": f"stored keys were sealed with master key {recorded_id}, but the "
            f"current master key is {info['key_id']}",
            "exit_code": int(ExitCode.VAULT),
        }
    return info


def doctor_exit_code(report: DoctorReport) -> int:
    return report.problems[0].exit_code if report.problems else int(ExitCode.OK)


def describe_providers(ctx: Context) -> list[dict[str, object]]:
    """For `jarvis doctor`: providers configured or with a key, and where the key comes from.

    Never creates the store: without one, only environment keys are seen.
    """
    from jarvis_cli.core.providers.presets import all_providers, url_credential_source
    from jarvis_cli.core.vault.keys import KeyManager

    keys = KeyManager(ctx)
    has_store = ctx.store_exists()
    out: list[dict[str, object]] = []
    for name, spec in sorted(all_providers(ctx.config).items()):
        source: str | None
        if has_store:
            try:
                source = keys.availability(spec)
            except JarvisError:
                source = None  # the store's own problem is reported by doctor already
        else:
            source = "env" if any(ctx.env.get(v, "").strip() for v in spec.key_env_vars()) else None
        if name not in ctx.config.providers and source is None:
            continue
        out.append(
            {
                "name": name,
                "base_url": spec.display_url,  # a URL password shows as ***
                # Where that password is kept: vault, env, config.toml (legacy) or missing.
                "url_credential": url_credential_source(spec, source),
                "needs_key": spec.needs_key,
                "key_source": source,
                "configured": name in ctx.config.providers,
            }
        )
    return out
