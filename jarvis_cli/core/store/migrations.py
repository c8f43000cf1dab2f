"""The store's schema as small ordered migrations (append only; version = position).

Each runs inside the opener's BEGIN IMMEDIATE, so a crash or a concurrent opener
never sees a half-migrated store; `schema_migrations` records what ran.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from importlib import import_module


def _execute_script(conn: sqlite3.Connection, script: str) -> None:
    """Run several statements inside the caller's transaction.

    (`executescript` would COMMIT the open BEGIN IMMEDIATE first, so a crash or a
    concurrent opener could see a half-migrated store.)
    """
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            conn.execute(statement)
            statement = ""
    if statement.strip():
        raise ValueError(f"incomplete SQL statement in migration: {statement.strip()[:60]}")


def _m1_initial(conn: sqlite3.Connection) -> None:
    _execute_script(
        conn,
        """
        CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);

        CREATE TABLE api_keys(
            provider TEXT NOT NULL,
            label TEXT NOT NULL,
            key_id TEXT NOT NULL,           -- id of the master key that sealed it
            nonce BLOB NOT NULL,
            ciphertext BLOB NOT NULL,       -- AES-256-GCM ciphertext || tag
            fingerprint TEXT NOT NULL,      -- display form, e.g. sk-...abcd
            created REAL NOT NULL,          -- unix time
            updated REAL NOT NULL,
            last_used REAL,
            usage_count INTEGER NOT NULL DEFAULT 0,
            rotation_count INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL DEFAULT 'active',
            PRIMARY KEY (provider, label)
        );

        CREATE TABLE key_events(
            id INTEGER PRIMARY KEY,
            provider TEXT NOT NULL,
            label TEXT NOT NULL,
            event TEXT NOT NULL,            -- added, rotated, deleted, validated, ...
            at REAL NOT NULL,
            detail TEXT                     -- never a key value
        );
        CREATE INDEX key_events_provider ON key_events(provider, at);

        CREATE TABLE models(
            id TEXT PRIMARY KEY,            -- provider/name
            provider TEXT NOT NULL,
            name TEXT NOT NULL,
            type TEXT,                      -- chat, completion, embedding; NULL = unknown
            cap_completion INTEGER,         -- capability flags: 1, 0, NULL = unknown
            cap_chat INTEGER,
            cap_embeddings INTEGER,
            cap_function_calling INTEGER,
            cap_vision INTEGER,
            cap_audio INTEGER,
            context_length INTEGER,
            max_output_tokens INTEGER,
            input_cost_per_mtok REAL,       -- USD per million tokens; NULL = unknown
            output_cost_per_mtok REAL,
            quality REAL,                   -- 0..1, optional
            status TEXT NOT NULL DEFAULT 'active',   -- active, unavailable
            source TEXT NOT NULL,           -- catalog, sync, user, import
            synced_at REAL,
            overrides TEXT                  -- JSON object of user-set fields (models set)
        );
        CREATE INDEX models_provider ON models(provider);

        CREATE TABLE calls(
            id INTEGER PRIMARY KEY,
            request_id TEXT NOT NULL,
            at REAL NOT NULL,               -- unix time the attempt started
            model_id TEXT NOT NULL,
            provider TEXT NOT NULL,
            kind TEXT NOT NULL,             -- chat, completion, embedding
            attempt INTEGER NOT NULL,
            ok INTEGER NOT NULL,
            error_class TEXT,
            status_code INTEGER,
            latency_ms REAL,
            ttft_ms REAL,
            prompt_tokens INTEGER,
            completion_tokens INTEGER,
            cost_usd REAL
        );
        CREATE INDEX calls_model_at ON calls(model_id, at);
        CREATE INDEX calls_at ON calls(at);
        """,
    )


def _m2_model_stats(conn: sqlite3.Connection) -> None:
    # A cache of PerformanceMonitor aggregates for the configured selection window,
    # refreshed incrementally (core/selection/metrics.py): recomputing percentiles over every
    # call row at each selection costs seconds at 100,000 rows.
    _execute_script(
        conn,
        """
        CREATE TABLE model_stats(
            model_id TEXT PRIMARY KEY,
            calls INTEGER NOT NULL,
            successes INTEGER NOT NULL,
            last_at REAL,
            oldest_at REAL,                 -- oldest attempt in the window sample
            latency_p50_ms REAL,
            latency_p95_ms REAL,
            ttft_p50_ms REAL
        );
        """,
    )


def _m3_snapshots(conn: sqlite3.Connection) -> None:
    # Selection scans every model and its metrics; reading 10,000 rows of each costs
    # more than the whole selection may. `snapshots` keeps derived forms of tables
    # (core/registry/model_table.py: the registry and the metrics as columns), each valid
    # while its version matches `data_versions`, which every change to the source
    # table bumps. The oldest_at index makes the metrics cache's "has a sample aged
    # out of the window?" check a lookup instead of a scan.
    _execute_script(
        conn,
        """
        CREATE TABLE data_versions(name TEXT PRIMARY KEY, version INTEGER NOT NULL);
        INSERT INTO data_versions(name, version) VALUES ('models', 1), ('model_stats', 1);
        CREATE TRIGGER models_insert_version AFTER INSERT ON models
        BEGIN UPDATE data_versions SET version = version + 1 WHERE name = 'models'; END;
        CREATE TRIGGER models_update_version AFTER UPDATE ON models
        BEGIN UPDATE data_versions SET version = version + 1 WHERE name = 'models'; END;
        CREATE TRIGGER models_delete_version AFTER DELETE ON models
        BEGIN UPDATE data_versions SET version = version + 1 WHERE name = 'models'; END;
        CREATE TRIGGER model_stats_insert_version AFTER INSERT ON model_stats
        BEGIN UPDATE data_versions SET version = version + 1 WHERE name = 'model_stats'; END;
        CREATE TRIGGER model_stats_update_version AFTER UPDATE ON model_stats
        BEGIN UPDATE data_versions SET version = version + 1 WHERE name = 'model_stats'; END;
        CREATE TRIGGER model_stats_delete_version AFTER DELETE ON model_stats
        BEGIN UPDATE data_versions SET version = version + 1 WHERE name = 'model_stats'; END;

        CREATE TABLE snapshots(
            name TEXT PRIMARY KEY,
            version TEXT NOT NULL,          -- the data_versions it was built from
            data BLOB NOT NULL
        );
        CREATE INDEX model_stats_oldest ON model_stats(oldest_at);
        """,
    )


def _m4_model_facts(conn: sqlite3.Connection) -> None:
    # Facts the bundled catalog now merges from models.dev (core/registry/catalog.py):
    # three capability flags and the model's family, release date and licence kind.
    # Forgetting the registered catalog's digest makes the next registry use
    # re-register it, so an existing store picks the new facts up at once.
    _execute_script(
        conn,
        """
        ALTER TABLE models ADD COLUMN cap_structured_output INTEGER;
        ALTER TABLE models ADD COLUMN cap_reasoning INTEGER;
        ALTER TABLE models ADD COLUMN cap_pdf_input INTEGER;
        ALTER TABLE models ADD COLUMN family TEXT;
        ALTER TABLE models ADD COLUMN release_date TEXT;     -- YYYY-MM-DD
        ALTER TABLE models ADD COLUMN open_weights INTEGER;  -- 1, 0, NULL = unknown
        DELETE FROM meta WHERE key IN ('catalog_digest', 'catalog_stamp');
        DELETE FROM snapshots WHERE name = 'model_table';
        """,
    )


def _m5_tokens_estimated(conn: sqlite3.Connection) -> None:
    # 1 when the provider reported no usage (a stream without a usage chunk) and the
    # token counts of the row are jarvis's own estimate, so `stats` can say so.
    _execute_script(
        conn, "ALTER TABLE calls ADD COLUMN tokens_estimated INTEGER NOT NULL DEFAULT 0;"
    )


def _fts5_available(conn: sqlite3.Connection) -> bool:
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.fts5_probe USING fts5(x)")
    except sqlite3.OperationalError:
        return False
    conn.execute("DROP TABLE temp.fts5_probe")
    return True


def _m6_content_log(conn: sqlite3.Connection) -> None:
    # What was asked and answered, one row per logged request (core/runs/content_log.py).
    # Only the new user turn is stored: a conversation's history is the earlier rows of
    # its conversation_id, so a long conversation does not store its history again at
    # every turn. `log_fts` indexes prompts and answers for `jarvis log -q`; an SQLite
    # without FTS5 gets the table without the index (search then says so, exit 3).
    # calls(request_id) joins attempts to their request for `log show` and `log -q`.
    _execute_script(
        conn,
        """
        CREATE TABLE log_requests(
            id INTEGER PRIMARY KEY,
            request_id TEXT NOT NULL UNIQUE,
            conversation_id TEXT NOT NULL,
            at REAL NOT NULL,               -- unix time the request finished
            kind TEXT NOT NULL,             -- chat, completion
            model_id TEXT NOT NULL,         -- the model that answered
            provider TEXT NOT NULL,
            system TEXT,
            prompt TEXT NOT NULL,           -- this turn's user message (piped input included)
            answer TEXT NOT NULL,
            finish_reason TEXT
        );
        CREATE INDEX log_requests_conversation ON log_requests(conversation_id, id);
        CREATE INDEX log_requests_at ON log_requests(at);
        CREATE INDEX calls_request ON calls(request_id);
        """,
    )
    if _fts5_available(conn):
        _execute_script(
            conn,
            """
            CREATE VIRTUAL TABLE log_fts USING fts5(
                prompt, answer, content='log_requests', content_rowid='id'
            );
            CREATE TRIGGER log_requests_fts_insert AFTER INSERT ON log_requests BEGIN
                INSERT INTO log_fts(rowid, prompt, answer)
                VALUES (new.id, new.prompt, new.answer);
            END;
            CREATE TRIGGER log_requests_fts_delete AFTER DELETE ON log_requests BEGIN
                INSERT INTO log_fts(log_fts, rowid, prompt, answer)
                VALUES ('delete', old.id, old.prompt, old.answer);
            END;
            """,
        )


def _m7_budget_reservations(conn: sqlite3.Connection) -> None:
    # A request's worst-case cost, held against the budgets from before it is sent
    # until its attempt is recorded (core/runs/budget.py). A row outlives its process
    # only until expires_at, so a crash frees its budget after a bounded time.
    _execute_script(
        conn,
        """
        CREATE TABLE budget_reservations(
            id TEXT PRIMARY KEY,
            provider TEXT NOT NULL,
            model_id TEXT NOT NULL,
            amount_usd REAL NOT NULL,
            created_at REAL NOT NULL,
            expires_at REAL NOT NULL,
            pid INTEGER,
            host TEXT
        );
        CREATE INDEX budget_reservations_expires ON budget_reservations(expires_at);
        """,
    )


def _m8_content_attachments(conn: sqlite3.Connection) -> None:
    # What a logged request attached (`-a`): name, sniffed mime type, size and sha256,
    # never the bytes (core/runs/attachments.py). A URL's name is stored masked and has
    # no size or digest (jarvis does not fetch it). Rows go when their request's
    # log_requests row goes (prune), by trigger, so no deleter has to know this table.
    _execute_script(
        conn,
        """
        CREATE TABLE content_attachments(
            id INTEGER PRIMARY KEY,
            request_id TEXT NOT NULL,
            position INTEGER NOT NULL,      -- order of the -a options, from 0
            name TEXT NOT NULL,             -- path as given, "-" for stdin, masked URL
            kind TEXT NOT NULL,             -- image, pdf
            mime TEXT NOT NULL,
            size INTEGER,                   -- bytes; NULL for a URL
            sha256 TEXT                     -- hex; NULL for a URL
        );
        CREATE INDEX content_attachments_request ON content_attachments(request_id, position);
        CREATE TRIGGER content_attachments_follow AFTER DELETE ON log_requests
        BEGIN DELETE FROM content_attachments WHERE request_id = OLD.request_id; END;
        """,
    )


def _m10_model_stats_throughput(conn: sqlite3.Connection) -> None:
    # Issue 24: selection predicts a request's latency as time to first token + output
    # tokens / tokens per second, so the cache keeps the median throughput too. It is
    # a cache: emptied and its watermark dropped, it is rebuilt from `calls` (which now
    # also leaves out attempts that were not the model's fault: selection/faults.py).
    _execute_script(
        conn,
        """
        ALTER TABLE model_stats ADD COLUMN tps_p50 REAL;
        DELETE FROM model_stats;
        DELETE FROM meta WHERE key IN ('model_stats.watermark', 'model_stats.window');
        """,
    )


def _m_issue23_token_calibration(conn: sqlite3.Connection) -> None:
    # Issue 23: what each model's provider really bills for a prompt, learned from
    # answered attempts (core/selection/calibration.py) and shared through the store;
    # and per attempt what was reserved and by how much the bill overran it.
    _execute_script(
        conn,
        """
        CREATE TABLE token_calibration(
            model_id TEXT PRIMARY KEY,
            samples TEXT NOT NULL,          -- JSON [[ascii, other, messages, billed], ...]
            n INTEGER NOT NULL,             -- answered attempts learned from, ever
            overhead REAL NOT NULL,         -- fitted tokens per request
            ascii_ratio REAL NOT NULL,      -- fitted tokens per ASCII byte
            other_ratio REAL NOT NULL,      -- fitted tokens per non-ASCII byte
            typical REAL NOT NULL,          -- mean billed / bound
            updated_at REAL NOT NULL
        );
        ALTER TABLE calls ADD COLUMN reserved_usd REAL;
        ALTER TABLE calls ADD COLUMN overrun_usd REAL;
        """,
    )


Migration = Callable[[sqlite3.Connection], None]


def _later(module: str, name: str) -> Migration:
    """`name` of core/store/`module`.py, a migration or a script, imported only when it
    runs: opening a store already at SCHEMA_VERSION loads none of those modules."""

    def run(conn: sqlite3.Connection) -> None:
        found = getattr(import_module(f"jarvis_cli.core.store.{module}"), name)
        if isinstance(found, str):
            _execute_script(conn, found)
        else:
            found(conn)

    return run


# Ordered; append only. The version of a migration is its 1-based position.
MIGRATIONS: list[tuple[str, Migration]] = [
    ("initial schema", _m1_initial),
    ("model_stats cache of selection metrics", _m2_model_stats),
    ("snapshots: columnar registry and metrics for selection", _m3_snapshots),
    ("models: structured_output, reasoning, pdf_input, family, release date", _m4_model_facts),
    ("calls.tokens_estimated: token counts estimated by jarvis", _m5_tokens_estimated),
    ("content log: prompts and answers, full-text index", _m6_content_log),
    ("budget_reservations: worst-case cost held until settled", _m7_budget_reservations),
    ("content log: attachments' name, type, size and sha256", _m8_content_attachments),
    ("model_stats: median output tokens per second", _m10_model_stats_throughput),
    (
        "serve: client tokens (hashes), limits, usage, requests in flight",
        _later("serve_schema", "SQLITE"),
    ),
    ("token_calibration per model; calls.reserved_usd, overrun_usd", _m_issue23_token_calibration),
    ("outcomes: scores of answers that selection learns from", _later("outcomes_schema", "SQLITE")),
    ("calls.error_message: a failed attempt's reason", _later("call_errors_schema", "migrate")),
    (
        "token_calibration: output overshoot per model (issue 23)",
        _later("output_calibration_schema", "migrate"),
    ),
    (
        "outcomes.output_tokens: billed output of the answer",
        _later("outcomes_schema", "migrate_output_tokens"),
    ),
]

SCHEMA_VERSION = len(MIGRATIONS)
