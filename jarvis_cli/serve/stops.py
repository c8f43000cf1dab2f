"""OpenAI's `stop` sequences, applied by the server to the text it returns.

Providers are not sent `stop` (the orchestrator's request has no such field), so the
server cuts the answer at the first stop sequence itself, as OpenAI does: the text
before it is returned, the sequence and everything after it are not, and the finish
reason is `stop`. Agents rely on it (a ReAct loop stops at "Observation:", an editor's
autocomplete at a blank line); ignored, they get a model's text running on past it.
The provider still generates, and bills, the tokens past the sequence.

Streamed, the last (longest sequence - 1) characters are held back until the next
delta shows whether they begin a stop sequence. Once one has come, the client's
response ends at once (unless it asked for usage, which is known only at the end)
while the worker reads the upstream stream to its end, so the attempt is recorded
as the answer it was, with what it billed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jarvis_cli.serve.errors import bad_request

MAX_STOPS = 64  # OpenAI takes 4; clients of other servers send more, so be lenient
MAX_STOP_CHARS = 1000


def parse(body: Mapping[str, Any]) -> tuple[str, ...]:
    """The request's stop sequences (none when absent); 400 for a wrong type."""
    raw = body.get("stop")
    if raw is None:
        return ()
    items = [raw] if isinstance(raw, str) else raw
    if (
        not isinstance(items, list)
        or len(items) > MAX_STOPS
        or not all(isinstance(s, str) and len(s) <= MAX_STOP_CHARS for s in items)
    ):
        raise bad_request(
            f"'stop' must be a string or an array of at most {MAX_STOPS} strings", param="stop"
        )
    return tuple(s for s in items if s)


class StopFilter:
    """Text in, the text to show out, cut before the first stop sequence."""

    def __init__(self, stops: tuple[str, ...]) -> None:
        self.stops = stops
        self.hold = max((len(s) for s in stops), default=1) - 1
        self.held = ""
        self.hit = False

    def feed(self, text: str) -> str:
        if self.hit:
            return ""
        if not self.stops:
            return text
        self.held += text
        cut = min((i for i in (self.held.find(s) for s in self.stops) if i >= 0), default=-1)
        if cut >= 0:
            self.hit = True
            shown, self.held = self.held[:cut], ""
            return shown
        split = max(0, len(self.held) - self.hold)
        shown, self.held = self.held[:split], self.held[split:]
        return shown

    def flush(self) -> str:
        """What is still held back once the text has ended (no stop sequence came)."""
        shown, self.held = ("" if self.hit else self.held), ""
        return shown

    def cut(self, text: str) -> str:
        """A whole answer, cut."""
        return self.feed(text) + self.flush()

    def finish_reason(self, given: str | None) -> str:
        return "stop" if self.hit else given or "stop"
