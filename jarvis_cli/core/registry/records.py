"""Registry records shared by the registry, selection and orchestration."""

# No `from __future__ import annotations` here: typing.NamedTuple compiles every
# string annotation (a ForwardRef per field), ~40 % of these classes' import cost.

from typing import NamedTuple

from jarvis_cli.core.providers.capabilities import Capabilities, RequestKind


def split_model_id(model_id: str) -> tuple[str, str]:
    """Split `provider/name` at the first `/` (openrouter/a/b -> openrouter, a/b)."""
    from jarvis_cli.core.redact import has_key_prefix

    provider, sep, name = model_id.partition("/")
    # A key pasted as a model id is refused before it reaches a warning, a table or
    # --json (the catch point redacts the message and says why).
    if not sep or not provider or not name or has_key_prefix(model_id):
        from jarvis_cli.core.errors import UsageError

        raise UsageError(
            f"bad model id {model_id!r}: expected PROVIDER/NAME, e.g. openai/gpt-4o-mini"
        )
    return provider, name


class ModelRecord(NamedTuple):
    """One row of the `models` table, with user overrides already applied."""

    id: str  # provider/name
    provider: str
    name: str
    type: RequestKind | None = None
    capabilities: Capabilities = Capabilities()
    context_length: int | None = None
    max_output_tokens: int | None = None
    input_cost_per_mtok: float | None = None  # USD per million tokens; None = unknown
    output_cost_per_mtok: float | None = None
    quality: float | None = None  # 0..1
    status: str = "active"  # active | unavailable
    source: str = "catalog"  # catalog | sync | user | import
    synced_at: float | None = None
    # Catalog facts from models.dev (appended last: positional construction stays valid).
    family: str | None = None  # e.g. claude-sonnet, gpt-mini
    release_date: str | None = None  # YYYY-MM-DD
    open_weights: bool | None = None

    def supports(self, kind: RequestKind) -> bool | None:
        """Whether the model serves `kind` requests (None = unknown)."""
        flag = {
            "chat": self.capabilities.chat,
            "completion": self.capabilities.completion,
            "embedding": self.capabilities.embeddings,
        }[kind]
        if flag is not None:
            return flag
        if self.type is not None:
            return self.type == kind
        return None
