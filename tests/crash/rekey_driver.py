"""Run `KeyManager.rekey` once everything is imported, so a test can kill it mid-rekey.

Prints "ready" when about to start, then the rekey's duration in seconds when done.
`python -m tests.crash.rekey_driver check` instead prints every stored key as JSON.
"""

from __future__ import annotations

import json
import sys
import time


def main() -> None:
    import cryptography.hazmat.primitives.ciphers.aead  # noqa: F401 - import before "ready"
    import keyring

    from jarvis_cli.core.context import Context
    from jarvis_cli.core.vault.keys import KeyManager

    keyring.get_keyring()
    ctx = Context()
    manager = KeyManager(ctx)
    if sys.argv[1:] == ["check"]:
        state = _state(ctx)  # before anything below can promote a pending key
        keys = {
            f"{k.provider}/{k.label}": manager.get(k.provider, k.label)
            for k in manager.list_keys()
            if k.source == "vault"
        }
        print(json.dumps({"state": state, "keys": keys}))
        return
    ctx.store  # noqa: B018 - open the store before "ready"
    print("ready", flush=True)
    start = time.perf_counter()
    manager.rekey()
    print(f"{time.perf_counter() - start:.6f}", flush=True)


def _state(ctx: object) -> str:
    """Where a killed rekey stopped: before commit, between commit and promotion, or done."""
    import sqlite3

    from jarvis_cli.core.vault.master_keys import KeyFileStore
    from jarvis_cli.core.vault.sealing import master_key_id

    paths = ctx.paths  # type: ignore[attr-defined]
    store = KeyFileStore(paths.master_key_file)
    current, pending = store.read("current"), store.read("pending")
    conn = sqlite3.connect(paths.db_file)
    rows = {r[0] for r in conn.execute("SELECT DISTINCT key_id FROM api_keys")}
    conn.close()
    if current is not None and rows == {master_key_id(current)}:
        if pending is None or master_key_id(pending) == master_key_id(current):
            return "done"
        return "before-commit"
    if pending is not None and rows == {master_key_id(pending)}:
        return "committed-not-promoted"
    return "unexpected"


if __name__ == "__main__":
    main()
