"""What a model can do (`Capabilities`) and the kinds of request (`RequestKind`).

The two names selection and the registry need from the providers layer, apart from
`base` (the adapter protocol and its result types, which re-exports them) so that a
`select` loads only this.
"""

# No `from __future__ import annotations` here: typing.NamedTuple compiles every
# string annotation (a ForwardRef per field), ~40 % of these classes' import cost.

from typing import Literal, NamedTuple

RequestKind = Literal["chat", "completion", "embedding"]


class Capabilities(NamedTuple):
    """Capability flags; None means unknown (never guessed as True)."""

    completion: bool | None = None
    chat: bool | None = None
    embeddings: bool | None = None
    function_calling: bool | None = None
    vision: bool | None = None
    audio: bool | None = None
    structured_output: bool | None = None  # JSON-schema constrained output
    reasoning: bool | None = None  # thinks before answering (reasoning/thinking model)
    pdf_input: bool | None = None  # accepts PDF attachments
