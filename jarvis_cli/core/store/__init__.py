"""Storage: where jarvis keeps what a person edits and what the program writes.

Owns the file locations (`paths`), private files and atomic writes (`files`),
config.toml (`config`), the SQLite store (`database`), its schema migrations
(`migrations`) and the change-counted snapshots selection reads (`snapshots`).

May import only the top-level `errors`. Everything else in the core builds on it.
"""
