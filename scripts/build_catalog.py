"""Generate jarvis_cli/data/catalog.json from a LiteLLM-format price map.

    .venv/bin/python scripts/build_catalog.py [PRICE_MAP] [--check]

PRICE_MAP defaults to ../shared/data/model_prices_and_context_window.json (beside
the repository). Only the built-in providers (via ProviderSpec.catalog_provider)
and the modes jarvis serves (chat, completion, embedding) are kept. The output is
committed, so jarvis never reads the price map at run time. `--check` exits 1 if
the committed file differs from what would be generated (for CI).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO.parent / "shared" / "data" / "model_prices_and_context_window.json"
SOURCE_LABEL = "LiteLLM model_prices_and_context_window.json (github.com/BerriAI/litellm)"


def build(source: Path) -> str:
    sys.path.insert(0, str(REPO))
    from jarvis_cli.core.providers.presets import PRESETS
    from jarvis_cli.core.registry.catalog import (
        catalog_document,
        parse_litellm,
        provider_names,
        read_price_file,
    )

    parsed = parse_litellm(
        read_price_file(source),
        provider_names(PRESETS.values()),
        source=str(source),
        hosted={p.name for p in PRESETS.values() if p.needs_key},
    )
    doc = catalog_document(parsed.entries, source=SOURCE_LABEL)
    # One model per line: diffs stay readable, the file stays small.
    rows = ",\n".join(json.dumps(row, separators=(",", ":")) for row in doc.pop("models"))
    head = json.dumps(doc, indent=1)[:-2]
    return f'{head},\n "models": [\n{rows}\n]}}\n'


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--check", action="store_true", help="fail if catalog.json is stale")
    args = parser.parse_args()
    from_source = build(args.source)
    target = REPO / "jarvis_cli" / "data" / "catalog.json"
    if args.check:
        if not target.exists() or target.read_text() != from_source:
            print(f"{target} is stale; run scripts/build_catalog.py", file=sys.stderr)
            return 1
        return 0
    target.write_text(from_source)
    count = from_source.count("\n[")
    print(f"wrote {target} ({count} models, {len(from_source) // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
