"""`jarvis batch` input and output: JSONL lines in, one result line out per input line.

Input is streamed twice and never loaded whole: a first pass keeps only the ids
(to refuse a missing or duplicate id, exit 2, before anything is sent), the second
parses each line as it is run. Standard input is first copied to a private
temporary file so it can be read twice.

Output lines are written whole (several may share one `write()`) and flushed, so a
crash or Ctrl-C leaves OUT valid line by line. Resuming with the same OUT keeps its
answered lines and runs everything else again (failed lines are retried); OUT is
rewritten first without its failed and torn lines, so every id appears exactly once.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from jarvis_cli.core.errors import UsageError
from jarvis_cli.core.runs.batch_attach import line_attachments

if TYPE_CHECKING:
    from jarvis_cli.core.runs.attachments import Attachment
    from jarvis_cli.core.runs.requests import Outcome

# fmt: off
LINE_FIELDS = frozenset({
    "id", "prompt", "messages", "system", "model", "strategy", "max_tokens", "temperature",
    "schema", "tools", "tool_choice", "attachments",
})
# fmt: on
ROLES = frozenset({"system", "user", "assistant"})


@dataclass(frozen=True)
class BatchLine:
    """One input line, checked: what to ask, and the per-line options."""

    number: int  # 1-based line number in IN
    id: str
    messages: tuple[tuple[str, str], ...] = ()  # (role, content)
    model: str | None = None
    strategy: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    schema: Mapping[str, Any] | None = None  # the line's own --schema, as JSON Schema
    tools: tuple[dict[str, Any], ...] = ()  # the line's own --tools (OpenAI shape)
    tool_choice: str | dict[str, Any] | None = None  # its --tool-choice, as sent
    attachments: tuple[Attachment, ...] = ()  # its "attachments", loaded (batch_attach.py)


@dataclass(frozen=True)
class BadLine:
    """An input line that could not be used; it becomes an error line in OUT."""

    number: int
    id: str | None
    message: str


def spool_stdin(stdin: IO[bytes] | None = None) -> Path:
    """Copy standard input to a private temporary file (0600) and return its path."""
    source = stdin if stdin is not None else sys.stdin.buffer
    fd, name = tempfile.mkstemp(prefix="jarvis-batch-", suffix=".jsonl")
    try:
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(source, out, 1 << 20)
    except BaseException:  # Ctrl-C while stdin is read: no spool is left in /tmp
        os.unlink(name)
        raise
    return Path(name)


def _line_id(obj: Any) -> str | None:
    if not isinstance(obj, dict) or "id" not in obj:
        return None
    value = obj["id"]
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    text = str(value)
    return text if text else None


def scan_ids(path: Path) -> int:
    """Check every parseable line has a unique id; return the number of lines.

    Raises UsageError (exit 2) naming the line of a missing, empty or duplicate id.
    Lines that are not JSON objects are left for the run to report.
    """
    seen: set[str] = set()
    count = 0
    with path.open("rb") as f:
        for number, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            count += 1
            try:
                obj = json.loads(raw)
            except ValueError:
                continue  # reported as a bad line in OUT; it does not stop the batch
            if not isinstance(obj, dict):
                continue
            line_id = _line_id(obj)
            if line_id is None:
                raise UsageError(
                    f'line {number}: no usable "id" (a non-empty string or integer is needed)',
                    hint="every input line needs its own id, so results and resumes can name it",
                )
            if line_id in seen:
                raise UsageError(f"line {number}: duplicate id {json.dumps(line_id)}")
            seen.add(line_id)
    return count


def read_lines(path: Path) -> Iterator[BatchLine | BadLine]:
    """Parse IN line by line (blank lines are skipped)."""
    with path.open("rb") as f:
        for number, raw in enumerate(f, start=1):
            if raw.strip():
                yield parse_line(number, raw, base_dir=path.parent)


@functools.lru_cache(maxsize=256)
def _schema_from_text(text: str, base_dir: Path | None) -> Mapping[str, Any]:
    from jarvis_cli.core.runs.structured import parse_schema

    return parse_schema(text, base_dir=base_dir)


def line_schema(value: Any, base_dir: Path | None) -> Mapping[str, Any]:
    """A line's "schema": SCHEMA text as for --schema (`@file` relative to IN), or an
    object that is the JSON Schema itself. ValueError says what is wrong."""
    from jarvis_cli.core.errors import UsageError

    try:
        if isinstance(value, str):
            return _schema_from_text(value, base_dir)
        if isinstance(value, dict):
            from jarvis_cli.core.runs.structured import check_schema

            check_schema(value, '"schema"')
            return value
    except UsageError as exc:
        raise ValueError(f'"schema": {exc.message}') from None
    raise ValueError('"schema" must be SCHEMA text or a JSON Schema object')


def parse_line(number: int, raw: bytes, base_dir: Path | None = None) -> BatchLine | BadLine:
    try:
        obj = json.loads(raw)
    except ValueError as exc:
        return BadLine(number, None, f"line {number}: not JSON ({exc})")
    if not isinstance(obj, dict):
        return BadLine(number, None, f"line {number}: not a JSON object")
    line_id = _line_id(obj)
    if line_id is None:  # pragma: no cover - scan_ids refused it before the run
        return BadLine(number, None, f"line {number}: no usable id")
    try:
        return _checked(number, line_id, obj, base_dir)
    except ValueError as exc:
        return BadLine(number, line_id, f"line {number}: {exc}")


def _checked(
    number: int, line_id: str, obj: Mapping[str, Any], base_dir: Path | None = None
) -> BatchLine:
    unknown = sorted(set(obj) - LINE_FIELDS)
    if unknown:
        raise ValueError(
            f"unknown field(s) {', '.join(unknown)} (known: {', '.join(sorted(LINE_FIELDS))})"
        )
    messages: list[tuple[str, str]] = []
    system = obj.get("system")
    if system is not None:
        if not isinstance(system, str):
            raise ValueError('"system" must be a string')
        messages.append(("system", system))
    if ("prompt" in obj) == ("messages" in obj):
        raise ValueError('give exactly one of "prompt" or "messages"')
    if "prompt" in obj:
        if not isinstance(obj["prompt"], str) or not obj["prompt"]:
            raise ValueError('"prompt" must be a non-empty string')
        messages.append(("user", obj["prompt"]))
    else:
        items = obj["messages"]
        if not isinstance(items, list) or not items:
            raise ValueError('"messages" must be a non-empty list')
        for i, m in enumerate(items):
            if (
                not isinstance(m, dict)
                or m.get("role") not in ROLES
                or not isinstance(m.get("content"), str)
            ):
                raise ValueError(
                    f'messages[{i}] must be {{"role": system|user|assistant, "content": string}}'
                )
            messages.append((m["role"], m["content"]))
    return BatchLine(
        number=number,
        id=line_id,
        messages=tuple(messages),
        model=_opt(obj, "model", str),
        strategy=_opt(obj, "strategy", str),
        max_tokens=_opt(obj, "max_tokens", int),
        temperature=_opt(obj, "temperature", float),
        schema=None if obj.get("schema") is None else line_schema(obj["schema"], base_dir),
        **line_tools(obj),
        attachments=line_attachments(obj, base_dir),
    )


def line_tools(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A line's "tools" (a list of tool definitions, as in --tools FILE) and
    "tool_choice" (auto, none, required or one of its tools' names), checked."""
    from jarvis_cli.core.runs.tools import check_tools, tool_choice_value

    tools, choice = obj.get("tools"), obj.get("tool_choice")
    if tools is None:
        if choice is not None:
            raise ValueError('"tool_choice" needs "tools"')
        return {}
    try:
        checked = check_tools(tools, '"tools"')
    except UsageError as exc:
        raise ValueError(exc.message.removeprefix("--tools: ")) from None
    if choice is None:
        return {"tools": checked}
    if not isinstance(choice, str):
        raise ValueError('"tool_choice" must be auto, none, required or a tool name')
    try:
        return {"tools": checked, "tool_choice": tool_choice_value(choice, checked)}
    except UsageError:
        raise ValueError(
            f'"tool_choice" {choice!r} is not auto, none, required or one of the line\'s tools'
        ) from None


def _opt(obj: Mapping[str, Any], name: str, kind: type) -> Any:
    value = obj.get(name)
    if value is None:
        return None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ValueError(f'"{name}" must be a {kind.__name__}')
    if kind is int and isinstance(value, int) and value < 1:
        raise ValueError(f'"{name}" must be at least 1')
    return value


def load_answered(out: Path) -> set[str]:
    """Ids answered in an earlier OUT; rewrite OUT keeping only those lines.

    Failed lines, torn last lines (a crash mid-write) and anything unparseable are
    dropped, so their ids run again and appear once.
    """
    if not out.exists():
        return set()
    answered: set[str] = set()
    kept = out.with_name(f".{out.name}.resume")
    try:
        with out.open("rb") as src, kept.open("wb") as dst:
            for number, raw in enumerate(src, 1):
                if not raw.endswith(b"\n"):
                    continue  # torn by a crash
                obj = _result_line(raw)
                if obj is None:  # a whole line no batch wrote: OUT is someone's file
                    raise UsageError(
                        f"output {out} is not a batch results file (line {number} is not "
                        "a result); it was left as it was",
                        hint="give -o a new file, or the OUT of an earlier run to resume it",
                    )
                line_id = obj.get("id")
                if obj["ok"] is True and isinstance(line_id, str) and line_id not in answered:
                    answered.add(line_id)
                    dst.write(raw)
            dst.flush()
            os.fsync(dst.fileno())
    except BaseException:
        kept.unlink(missing_ok=True)
        raise
    os.replace(kept, out)
    return answered


def _result_line(raw: bytes) -> dict[str, Any] | None:
    """`raw` as a result line of a batch OUT (an object with "id" and a boolean "ok")."""
    try:
        obj = json.loads(raw)
    except ValueError:
        return None
    if isinstance(obj, dict) and "id" in obj and isinstance(obj.get("ok"), bool):
        return obj
    return None


class OutputWriter:
    """Writes result lines whole and flushed; with `ordered`, in input order.

    Every input line has a sequence number; a line skipped on resume is `skip`ped so
    the order can move past it. `wait_room` bounds how far ahead of the oldest
    unwritten line the reader may go, which bounds the reorder buffer.
    """

    def __init__(self, stream: IO[bytes], *, ordered: bool = False) -> None:
        self.stream = stream
        self.ordered = ordered
        self._next = 0
        self._pending: dict[int, bytes | None] = {}
        self._ready: list[bytes] = []  # in output order, not yet written
        self._cond = threading.Condition()

    def write(self, seq: int, record: Mapping[str, Any]) -> None:
        self.write_many([(seq, record)])

    def write_many(self, records: Sequence[tuple[int, Mapping[str, Any]]]) -> None:
        """Write result lines (sequence number, record) with one flush."""
        encoded = [(seq, _encode(record)) for seq, record in records]
        with self._cond:
            for seq, data in encoded:
                self._put(seq, data)
            self._flush()

    def skip(self, seq: int) -> None:
        with self._cond:
            self._put(seq, None)
            self._flush()

    def wait_room(self, seq: int, window: int) -> None:
        with self._cond:
            while self.ordered and seq - self._next >= window:
                self._cond.wait()

    def _put(self, seq: int, data: bytes | None) -> None:
        if not self.ordered:
            if data is not None:
                self._ready.append(data)
            return
        self._pending[seq] = data
        while self._next in self._pending:
            ready = self._pending.pop(self._next)
            if ready is not None:
                self._ready.append(ready)
            self._next += 1
        self._cond.notify_all()

    def _flush(self) -> None:
        """Write the lines made ready with one write() (whole lines only) and flush."""
        if self._ready:
            data, self._ready = b"".join(self._ready), []
            self.stream.write(data)
            self.stream.flush()


def _encode(record: Mapping[str, Any]) -> bytes:
    return (json.dumps(record, ensure_ascii=False) + "\n").encode()


def answer_record(line: BatchLine, outcome: Outcome, *, schema: bool = False) -> dict[str, Any]:
    """An output line for an answered line (with "data" under a schema, and the tool
    calls the answer made)."""
    usage = outcome.usage
    record: dict[str, Any] = {
        "id": line.id,
        "line": line.number,
        "ok": True,
        "answer": outcome.text,
        "model_id": outcome.model_id,
        "provider": outcome.provider,
        "usage": {
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens,
        },
        "cost_usd": outcome.cost_usd,
        "latency_ms": round(outcome.latency_ms, 1),
        "attempts": len(outcome.attempts),
    }
    if schema:
        record["data"] = outcome.data  # the parsed answer, valid against the schema
    if outcome.tool_calls:
        from jarvis_cli.core.runs.tools import call_json

        record["tool_calls"] = [call_json(c) for c in outcome.tool_calls]
    return record
