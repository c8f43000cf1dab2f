"""Fast start: the CLI must not import heavy modules until a command needs them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("openai", "keyring", "cryptography", "httpx", "httpx2")


def loaded_after(code: str, heavy: tuple[str, ...] = HEAVY) -> list[str]:
    probe = (
        f"{code}\nimport sys, json\n"
        f"print(json.dumps([m for m in {heavy!r} if m in sys.modules]), file=sys.__stderr__)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    last = out.stderr.strip().splitlines()[-1]
    return list(json.loads(last))


def test_importing_the_cli_loads_no_heavy_module() -> None:
    assert loaded_after("import jarvis_cli.cli") == []


def test_help_loads_no_heavy_module() -> None:
    code = (
        "from jarvis_cli.cli import run\n"
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n    run(['--help'])"
    )
    assert loaded_after(code) == []


def test_help_opens_no_store() -> None:
    code = (
        "from jarvis_cli.cli import run\n"
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n    run(['--help'])"
    )
    assert loaded_after(code, ("sqlite3", "_sqlite3")) == []


def test_doctor_json_loads_no_heavy_module() -> None:
    code = (
        "from jarvis_cli.cli import run\n"
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n    run(['doctor', '--json'])"
    )
    assert loaded_after(code) == []


_COMPLETE_PROBE = """
import contextlib, io, os
from tests.fake_provider import Behavior, FakeProvider
fake = FakeProvider().start()
fake.always(None, Behavior(schema_answer="valid"))
home = os.environ["JARVIS_HOME"]
os.makedirs(home, mode=0o700, exist_ok=True)
path = os.path.join(home, "config.toml")
with open(path, "w") as f:
    f.write(f'[providers.box]\\nbase_url = "{fake.base_url}"\\nneeds_key = false\\n')
os.chmod(path, 0o600)
from jarvis_cli.cli import run
out = io.StringIO()
with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
    run(["complete", "hi", "-m", "box/fake-chat", "--no-stream", "--no-stdin", *EXTRA])
assert out.getvalue() == EXPECTED, out.getvalue()
fake.stop()
"""


@pytest.mark.slow(11)
def test_jsonschema_loads_only_when_schema_is_used() -> None:
    help_code = (
        "from jarvis_cli.cli import run\n"
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    run(['complete', '--help'])"
    )
    assert loaded_after(help_code, ("jsonschema",)) == []
    plain = f"EXTRA = []\nEXPECTED = 'Hello from fake\\n'\n{_COMPLETE_PROBE}"
    assert loaded_after(plain, ("jsonschema",)) == []
    # The probe does see it when --schema is given:
    schema = f"EXTRA = ['--schema', 'a']\nEXPECTED = '{{\"a\": \"text\"}}\\n'\n{_COMPLETE_PROBE}"
    assert loaded_after(schema, ("jsonschema",)) == ["jsonschema"]


@pytest.mark.slow(10)
def test_libpq_loads_only_for_a_team_store_and_psycopg_never(pg_url: str) -> None:
    """A complete on the local SQLite store loads no PostgreSQL client; on a team store
    it loads libpq through ctypes (store/libpq.py), and never psycopg (issue 28: its
    import cost more than a whole `select` on SQLite)."""
    client = ("psycopg", "psycopg_binary", "jarvis_cli.core.store.libpq")
    plain = f"EXTRA = []\nEXPECTED = 'Hello from fake\\n'\n{_COMPLETE_PROBE}"
    assert loaded_after(plain, client) == []
    team = f"import os\nos.environ['JARVIS_STORE_URL'] = {pg_url!r}\n{plain}"
    assert loaded_after(team, client) == ["jarvis_cli.core.store.libpq"]


SERVER = ("uvicorn", "httptools", "uvloop", "jarvis_cli.serve.server", "jarvis_cli.serve.app")


def test_the_server_stack_loads_only_for_serve() -> None:
    """issue 26: `--help`, `serve --help` and a complete load no part of the server."""
    help_code = (
        "from jarvis_cli.cli import run\n"
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    run(['--help'])\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    run(['serve', '--help'])"
    )
    assert loaded_after(help_code, SERVER) == []
    plain = f"EXTRA = []\nEXPECTED = 'Hello from fake\\n'\n{_COMPLETE_PROBE}"
    assert loaded_after(plain, SERVER) == []
    # The probe does see it once the server is imported:
    assert loaded_after("import jarvis_cli.serve.app, uvicorn", SERVER[:1]) == ["uvicorn"]


# What `select --json` on a home without config.toml does not load (issue 25's
# whole-process item, <= 1.3x the Typer floor), once the bundled catalog is registered
# (the first command on a home parses it, with dataclasses): config.toml's parser and
# schema, the atomic-write machinery, dataclasses (a frozen dataclass costs ~1 ms to
# create), the adapter protocol and result types, KeyManager and the vault records,
# the clear-header checks, the table renderers, and what only outcomes or a rebuild of
# the name facts need, and the modules of migrations that already ran.
SELECT_SKIPS = (
    "tomllib",
    "tempfile",
    "dataclasses",
    "jarvis_cli.core.store.config_schema",
    "jarvis_cli.core.providers.base",
    "jarvis_cli.core.providers.header_secrets",
    "jarvis_cli.core.vault.keys",
    "jarvis_cli.core.vault.records",
    "jarvis_cli.cli.select_render",
    "jarvis_cli.cli.tables",
    "jarvis_cli.core.selection.prompt_terms",  # no outcomes: no prompt index
    "jarvis_cli.core.selection.learning",  # no outcomes: nothing learned
    "jarvis_cli.core.selection.learned_output",
    "jarvis_cli.core.registry.matching",  # name facts come from the store's snapshot
    "jarvis_cli.core.registry.model_registry",  # the catalog is registered already
    # The store is at SCHEMA_VERSION: no migration runs, so none of their modules loads.
    "jarvis_cli.core.store.outcomes_schema",
    "jarvis_cli.core.store.call_errors_schema",
    "jarvis_cli.core.store.output_calibration_schema",
    "jarvis_cli.core.store.serve_schema",
)
_SELECT_PROBE = """
import contextlib, io, json, os
CONFIG
from jarvis_cli.cli import run
out = io.StringIO()
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
    with contextlib.suppress(SystemExit):
        run(["select", "--json", "Summarize this report in three bullet points"])
assert json.loads(out.getvalue())["model_id"], out.getvalue()
"""


def test_select_json_on_a_fresh_home_loads_only_what_it_needs() -> None:
    from tests.conftest import run_jarvis

    first = run_jarvis("select", "--json", "hi")  # registers the bundled catalog
    assert first.returncode == 0, first.stderr
    assert loaded_after(_SELECT_PROBE.replace("CONFIG", ""), SELECT_SKIPS) == []
    # The probe does see them when there is a config.toml to read and check:
    config = (
        "home = os.environ['JARVIS_HOME']\n"
        "os.makedirs(home, mode=0o700, exist_ok=True)\n"
        "path = os.path.join(home, 'config.toml')\n"
        "with open(path, 'w') as f:\n"
        "    f.write('[providers.box]\\nbase_url = \"http://127.0.0.1:9/v1\"\\n')\n"
        "os.chmod(path, 0o600)"
    )
    seen = loaded_after(_SELECT_PROBE.replace("CONFIG", config), SELECT_SKIPS)
    assert seen == [
        "tomllib",
        "jarvis_cli.core.store.config_schema",
        "jarvis_cli.core.providers.header_secrets",
    ]
