"""The two `response_format` dialects of OpenAI-compatible servers.

OpenAI, vLLM, LiteLLM and most servers take a schema as
`{"type": "json_schema", "json_schema": {"name", "schema", "strict"}}`, which is what
jarvis sends for `--schema` (runs/structured.py). llama-cpp-python's server takes
only `text` and `json_object`: it refuses `json_schema` (HTTP 500, "Input should be
'text' or 'json_object'") and instead constrains the answer to a schema given as
`{"type": "json_object", "schema": {...}}` (a grammar built from it).

So when a server refuses `json_schema` with an error that names `json_object`, the
adapter sends the same request once more in that dialect and keeps it for the
provider for the rest of the process. The answer is validated against the schema
as always; the refused request was not answered, so nothing of it is billed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jarvis_cli.core.errors import ProviderError

_REFUSING_STATUSES = (400, 422, 500)


def refuses_json_schema(err: ProviderError) -> bool:
    """True when `err` is a server refusing a json_schema response_format and naming
    json_object as what it takes."""
    if err.status_code not in _REFUSING_STATUSES:
        return False
    said = f"{err} {err.detail or ''}"
    return "json_object" in said and "json_schema" in said


def as_json_object(fmt: Mapping[str, Any]) -> dict[str, Any]:
    """`fmt` in the json_object dialect (the schema, when there is one, kept)."""
    if fmt.get("type") != "json_schema":
        return dict(fmt)
    spec = fmt.get("json_schema")
    schema = spec.get("schema") if isinstance(spec, Mapping) else None
    out: dict[str, Any] = {"type": "json_object"}
    if isinstance(schema, Mapping):
        out["schema"] = dict(schema)
    return out
