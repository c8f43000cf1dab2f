"""Whether the bundled catalog on disk is the one registered in the store.

`meta` holds the digest of the catalog last registered and its stamp,
"<size>:<mtime_ns>:<digest>" of the file: while the file's size and mtime match,
no run reads, hashes or parses the catalog (or imports catalog.py). Apart from
model_registry.py, which registers it: a selection asks this and loads the registry's
reads and writes only when the catalog changed.
"""

from __future__ import annotations

from jarvis_cli.core.store.connection import StoreHandle
from jarvis_cli.core.store.paths import BUNDLED_CATALOG_FILE

CATALOG_DIGEST_META = "catalog_digest"
CATALOG_STAMP_META = "catalog_stamp"


def file_stamp() -> str:
    """ "<size>:<mtime_ns>" of the bundled catalog file."""
    st = BUNDLED_CATALOG_FILE.stat()
    return f"{st.st_size}:{st.st_mtime_ns}"


def catalog_registered(store: StoreHandle, quick: str | None = None) -> bool:
    """Whether the catalog file as it is now (`quick`: file_stamp()) is registered."""
    quick = quick or file_stamp()
    meta = dict(
        store.conn.execute(
            "SELECT key, value FROM meta WHERE key IN (?, ?)",
            (CATALOG_DIGEST_META, CATALOG_STAMP_META),
        ).fetchall()
    )
    digest = meta.get(CATALOG_DIGEST_META)
    return digest is not None and meta.get(CATALOG_STAMP_META) == f"{quick}:{digest}"
