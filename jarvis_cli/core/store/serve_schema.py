"""`jarvis serve`'s tables (issue 26, migration 10), for SQLite (migrations.py): client
tokens (only a sha256 of each is stored) with their limits; one usage row per admitted
request of a limited token (rpm and budget spend); one in-flight row per request still
running (concurrency, and its worst-case cost held against the token's budgets until
settled; it stops counting at expires_at). Kept here so migrations.py stays under 400
lines, and loaded only when the migration runs."""

SQLITE = """
        CREATE TABLE serve_tokens(
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            token_hash TEXT NOT NULL UNIQUE,
            prefix TEXT NOT NULL,
            created_at REAL NOT NULL,
            rotated_at REAL,
            revoked_at REAL,
            models TEXT,                    -- JSON list of fnmatch patterns; NULL = any
            rpm INTEGER,
            concurrency INTEGER,
            daily_usd REAL,
            monthly_usd REAL
        );
        CREATE UNIQUE INDEX serve_tokens_name ON serve_tokens(name) WHERE revoked_at IS NULL;
        CREATE TABLE serve_token_usage(
            id TEXT PRIMARY KEY,
            token_id TEXT NOT NULL,
            at REAL NOT NULL,
            cost_usd REAL NOT NULL DEFAULT 0
        );
        CREATE INDEX serve_token_usage_at ON serve_token_usage(token_id, at);
        CREATE TABLE serve_inflight(
            id TEXT PRIMARY KEY,
            token_id TEXT NOT NULL,
            amount_usd REAL NOT NULL,
            created_at REAL NOT NULL,
            expires_at REAL NOT NULL,
            pid INTEGER,
            host TEXT
        );
        CREATE INDEX serve_inflight_token ON serve_inflight(token_id, expires_at);
        """
