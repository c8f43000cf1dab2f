"""Conversations: a request's history is the logged turns of its conversation_id.

`jarvis complete -c` continues the most recent conversation, `--cid ID` a given one;
the history goes to whichever model selection or fallback picks, as messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from jarvis_cli.core.errors import NoSuitableModelError, UsageError
from jarvis_cli.core.providers.base import Message
from jarvis_cli.core.runs.id_prefix import expand_id
from jarvis_cli.core.selection.cost import estimate_request_tokens
from jarvis_cli.core.store.connection import Connection

if TYPE_CHECKING:
    from jarvis_cli.core.registry.model_registry import ModelRegistry


@dataclass(frozen=True)
class Conversation:
    """A logged conversation: its id, last system prompt and turns as messages."""

    id: str
    system: str | None
    history: tuple[Message, ...]  # user/assistant pairs, oldest first

    def messages(self, prompt: str, system: str | None = None) -> tuple[Message, ...]:
        """The messages of the next turn: system (the given one wins), history, prompt."""
        chosen = system if system is not None else self.system
        head = (Message("system", chosen),) if chosen else ()
        return (*head, *self.history, Message("user", prompt))


# A failed request is logged with its prompt (finish_reason 'error') but is no turn of
# its conversation: the history sent again holds answered turns only.
ANSWERED = "(finish_reason IS NULL OR finish_reason <> 'error')"


def latest_conversation_id(conn: Connection) -> str | None:
    """The conversation of the most recently logged request, if any."""
    row = conn.execute(
        f"SELECT conversation_id FROM log_requests WHERE {ANSWERED} ORDER BY id DESC LIMIT 1"
    ).fetchone()
    return None if row is None else str(row[0])


def load_conversation(conn: Connection, conversation_id: str | None) -> Conversation:
    """The conversation `conversation_id` (None: the most recent); a usage error if none."""
    if conversation_id is None:
        conversation_id = latest_conversation_id(conn)
        if conversation_id is None:
            raise UsageError(
                "no conversation to continue: the content log is empty",
                hint='start one with: jarvis complete "…"  (and keep [log] content on)',
            )
    else:
        conversation_id = expand_id(conn, "conversation", conversation_id)
    rows = conn.execute(
        "SELECT system, prompt, answer FROM log_requests WHERE conversation_id = ? AND "
        + ANSWERED
        + " ORDER BY id",
        (conversation_id,),
    ).fetchall()
    if not rows:
        raise UsageError(
            f"no conversation {conversation_id!r} in the log",
            hint="conversation ids are in `jarvis log --json`; -c continues the latest one",
        )
    history: list[Message] = []
    for _system, prompt, answer in rows:
        history += [Message("user", prompt), Message("assistant", answer)]
    return Conversation(conversation_id, rows[-1][0], tuple(history))


def conversation_size(messages: Sequence[Message], max_tokens: int | None) -> tuple[int, str]:
    """(tokens needed, a phrase naming the sizes) for a request with history."""
    prompt = "\n".join(m.content for m in messages)
    tokens = estimate_request_tokens("chat", prompt=prompt, max_tokens=max_tokens)
    needed = tokens.input_tokens + tokens.output_tokens
    history = estimate_request_tokens(
        "chat", prompt="\n".join(m.content for m in messages[:-1])
    ).input_tokens
    turns = sum(1 for m in messages if m.role == "assistant")
    phrase = (
        f"the conversation needs about {needed:,} tokens (history of {turns} turn(s) "
        f"~{history:,}, answer {tokens.output_tokens:,})"
    )
    return needed, phrase


def history_too_long(
    messages: Sequence[Message], max_tokens: int | None, exc: NoSuitableModelError
) -> NoSuitableModelError:
    """Selection's refusal of a request with history, saying how big the history is."""
    _, phrase = conversation_size(messages, max_tokens)
    return NoSuitableModelError(f"{phrase}; {exc.message}", hint=HINT)


HINT = "start a new conversation (without -c/--cid), or pick a model with a larger context"


def check_history_fits(
    registry: ModelRegistry,
    model_ids: Sequence[str],
    messages: Sequence[Message],
    *,
    max_tokens: int | None,
) -> None:
    """Refuse (exit 6) when every given model's known context is too small for the
    conversation; a model of unknown context is given the benefit of the doubt."""
    if not model_ids:
        return
    needed, phrase = conversation_size(messages, max_tokens)
    sizes: list[str] = []
    for model_id in model_ids:
        record = registry.get(model_id)
        context = None if record is None else record.context_length
        if context is None or context >= needed:
            return
        sizes.append(f"{model_id} {context:,}")
    raise NoSuitableModelError(
        f"{phrase}, more than every model's context: {', '.join(sizes)}", hint=HINT
    )
