"""A real, throw-away PostgreSQL server for the tests (issue 16).

The test run starts one server in a temporary directory with Debian's
``initdb``/``pg_ctl`` (PostgreSQL refuses to run as root, so as root it runs as
the ``postgres`` user), listening on 127.0.0.1 on a free port with trust
authentication; each test gets a fresh database cloned from a template, which is
much faster than a server per test. Under pytest-xdist every worker shares that one
server (tests/shared_service.py); a database's name carries the worker's pid. When
neither the binaries nor psycopg are available, ``find_unavailable_reason`` says why so
the tests skip with that reason.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PG_BIN_DIRS = (
    "/usr/lib/postgresql/17/bin",
    "/usr/lib/postgresql/16/bin",
    "/usr/lib/postgresql/15/bin",
)
TEMPLATE_DB = "jarvis_template"


def find_pg_bin() -> Path | None:
    """The directory holding initdb and pg_ctl, or None."""
    for d in PG_BIN_DIRS:
        if (Path(d) / "initdb").is_file() and (Path(d) / "pg_ctl").is_file():
            return Path(d)
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def find_unavailable_reason() -> str | None:
    """Why a PostgreSQL server cannot be started here, or None when it can."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install -e '.[test]' installs it)"
    if find_pg_bin() is None:
        return "PostgreSQL server binaries (initdb, pg_ctl) not found; apt-get install postgresql"
    if os.geteuid() == 0:
        import pwd

        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run the server as"
        if find_runuser() is None:
            return "running as root and runuser (util-linux) is not installed"
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def find_runuser() -> str | None:
    """runuser, also when PATH has no sbin directory (CI runs with a minimal PATH)."""
    found = shutil.which("runuser")
    if found:
        return found
    for candidate in ("/usr/sbin/runuser", "/sbin/runuser"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def _as_server_user(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    runuser = find_runuser()
    assert runuser is not None  # find_unavailable_reason() checked it
    return [runuser, "-u", "postgres", "--", *argv]


@dataclass
class PgServer:
    """One running server; ``stop()`` shuts it down and removes its directory."""

    bin_dir: Path
    root: Path
    port: int
    _counter: int = field(default=0)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    def version(self) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "?"

    def fresh_database(self) -> str:
        """A new, empty database cloned from the template; returns its URL."""
        self._counter += 1
        name = f"t{os.getpid()}_{self._counter}"
        self._admin(f'CREATE DATABASE "{name}" TEMPLATE {TEMPLATE_DB}')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def describe(self) -> dict[str, str | int]:
        """What another process needs to use (and stop) this server: see tests/shared_service.py."""
        return {"bin_dir": str(self.bin_dir), "root": str(self.root), "port": self.port}

    @classmethod
    def from_description(cls, data: dict[str, Any]) -> PgServer:
        return cls(bin_dir=Path(data["bin_dir"]), root=Path(data["root"]), port=int(data["port"]))

    def stop(self) -> None:
        subprocess.run(
            _as_server_user(
                [str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "stop"]
            ),
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.root, ignore_errors=True)


def start_server(*, fsync: bool = False) -> PgServer:
    """initdb + pg_ctl start in a temp dir; raises RuntimeError with the server log on failure.

    Tests run without fsync (nothing to keep); benchmarks ask for a durable server."""
    bin_dir = find_pg_bin()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL binaries not found")
    root = Path(tempfile.mkdtemp(prefix="jarvis-pg-"))
    root.chmod(0o700)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data = root / "data"
    log = root / "server.log"
    port = _free_port()
    initdb = [
        str(bin_dir / "initdb"),
        "-D",
        str(data),
        "-U",
        "postgres",
        "-A",
        "trust",
        "-E",
        "UTF8",
        "--no-sync",
    ]
    res = subprocess.run(_as_server_user(initdb), capture_output=True, text=True, check=False)
    if res.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {res.stderr.strip()}")
    opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1"
    if not fsync:
        opts += " -c fsync=off -c full_page_writes=off"
    start = [
        str(bin_dir / "pg_ctl"),
        "-D",
        str(data),
        "-l",
        str(log),
        "-o",
        opts,
        "-w",
        "-t",
        "60",
        "start",
    ]
    res = subprocess.run(_as_server_user(start), capture_output=True, text=True, check=False)
    server = PgServer(bin_dir=bin_dir, root=root, port=port)
    if res.returncode != 0:
        text = log.read_text(errors="replace") if log.exists() else res.stderr
        server.stop()
        raise RuntimeError(f"pg_ctl start failed: {text.strip()[-2000:]}")
    deadline = time.monotonic() + 30
    while True:
        try:
            server._admin(f"CREATE DATABASE {TEMPLATE_DB}")
            break
        except Exception:
            if time.monotonic() > deadline:
                server.stop()
                raise
            time.sleep(0.2)
    return server
