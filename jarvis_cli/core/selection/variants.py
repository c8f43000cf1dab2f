"""Versions and variants of a model, from its name alone.

- A dated snapshot or a `-latest` alias is a version of one model:
  `gpt-5-nano-2025-08-07`, `claude-3-5-sonnet-20241022`, `mistral-large-2411`,
  `gemini-2.0-flash-001` and `mistral-large-latest` all belong to the model named by
  `base_name` (`gpt-5-nano`, `claude-3-5-sonnet`, `mistral-large`, ...). Tables show
  one row per model with its version count; `--all-versions` lists every version.
- A variant serves something other than plain text chat: preview (and
  experimental, `exp`: a name marked as not yet the product), audio,
  realtime, search, tts, image, moderation, transcribe, and the `ft:` fine-tuning
  price templates of the catalog. `variant_kind` names it;
  selection leaves such models out of a plain text request unless it is asked for
  (`--model`, or `--capability audio` for the audio kinds).
"""

# No `from __future__ import annotations`: typing.NamedTuple compiles each string
# annotation at import (a ForwardRef per field); the few forward references are quoted.

import json
import re
import zlib
from collections.abc import Collection, Sequence
from functools import cache
from typing import TYPE_CHECKING, NamedTuple

from jarvis_cli.core.selection.speed import class_from_name
from jarvis_cli.core.store.connection import Connection
from jarvis_cli.core.store.snapshots import load_snapshot, save_snapshot

if TYPE_CHECKING:
    from jarvis_cli.core.registry.model_table import ModelTable


@cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """Compiled on first use: a selection reads its name facts from the store's snapshot
    (name_facts) and never needs them, and compiling them cost every `select` ~0.4 ms.
    In order: a version suffix, a variant word, a word saying a model of unknown type
    is not a chat model."""
    return (
        re.compile(
            r"(?:[-@_](?:\d{4}-\d{2}-\d{2}|\d{8}|\d{4}|\d{3}|latest)|:latest)$", re.IGNORECASE
        ),
        re.compile(
            r"(?:^|[-_/.:])(preview|experimental|exp|audio|realtime|search|tts|image|moderation"
            r"|transcribe|whisper|dall-e)(?=$|[-_/.:])",
            re.IGNORECASE,
        ),
        re.compile(
            r"embed|rerank|moderation|tts|whisper|transcribe|speech|image|dall-e|diffusion|flux"
            r"|guard|clip\b|bge-|e5-",
            re.IGNORECASE,
        ),
    )


# Variant kinds a required capability asks for.
WANTED_BY_CAPABILITY: dict[str, frozenset[str]] = {
    "audio": frozenset({"audio", "realtime", "tts", "transcribe", "whisper"}),
}


def base_name(name: str) -> str:
    """The model `name` is a version of (itself when it is not a dated or -latest alias).

    Strips one trailing date (`-2025-08-07`, `-20241022`), a 3-4 digit snapshot
    number (`-2411`, `-001`) or `-latest`, unless the last path part of what
    remains would have no letter left.
    """
    stripped = _patterns()[0].sub("", name)
    if stripped == name or not stripped or not re.search(r"[a-zA-Z]", stripped.split("/")[-1]):
        return name
    return stripped


def variant_kind(name: str) -> str | None:
    """The first variant word in `name` (`preview`, `audio`, ...), `fine-tune` for the
    price map's `ft:` templates, or None for a plain model."""
    if name.startswith("ft:"):
        return "fine-tune"
    found = _patterns()[1].search(name)
    if not found:
        return None
    kind = found.group(1).lower()
    return "experimental" if kind == "exp" else kind


def not_chat_word(name: str) -> str | None:
    """The word in `name` saying a model of unknown type is not a chat model, or None."""
    found = _patterns()[2].search(name)
    return found.group(0).lower() if found else None


class NameFacts(NamedTuple):
    """What the names of a ModelTable's models say, by position (sparse: most say nothing)."""

    variant: dict[int, str]  # position -> variant kind (preview, audio, ...)
    base: dict[int, str]  # position -> the name it is a version of
    not_chat: dict[int, str]  # position -> the word saying it is not a chat model
    scored: dict[int, str]  # position -> the bundled quality entry (catalog id) it takes
    speed: dict[int, str]  # position -> size class its name says (selection/speed.py)

    @classmethod
    def of(cls, table: "ModelTable", scored_ids: Collection[str] = ()) -> "NameFacts":
        """The facts of `table`'s names; `scored_ids` are the bundled quality table's
        model ids, matched by id, else by name (registry/matching.py)."""
        variant: dict[int, str] = {}
        base: dict[int, str] = {}
        not_chat: dict[int, str] = {}
        scored: dict[int, str] = {}
        speed: dict[int, str] = {}
        # Here, not at the top: a selection reads its name facts from the store.
        from jarvis_cli.core.registry.matching import NameIndex, match_key

        known = set(scored_ids)
        index = NameIndex(known) if known else None
        ids, shapes, shape_of, odd = table.ids, table.shapes, table.shape_of, table.odd_names
        for i, model_id in enumerate(ids):
            name = odd.get(i) or model_id[len(shapes[shape_of[i]].provider) + 1 :]
            kind = variant_kind(name)
            if kind is not None:
                variant[i] = kind
            stem = base_name(name)
            if stem != name:
                base[i] = stem
            word = not_chat_word(name)
            if word is not None:
                not_chat[i] = word
            size = class_from_name(name)
            if size is not None:
                speed[i] = size
            if index is None:
                continue
            if model_id in known:
                scored[i] = model_id
                continue
            lowered = name.lower()
            found = (
                index.by_name.get(lowered)
                or index.by_last.get(lowered.rpartition("/")[2])
                or index.by_key.get(match_key(lowered))
                # a dated version takes its model's score (gpt-5-nano-2025-08-07)
                or (index.by_key.get(match_key(stem.lower())) if stem != name else None)
            )
            if found is not None:
                scored[i] = found
        return cls(variant, base, not_chat, scored, speed)

    def encode(self) -> bytes:
        return json.dumps([sorted(d.items()) for d in self], separators=(",", ":")).encode()

    @classmethod
    def decode(cls, data: bytes) -> "NameFacts":
        try:
            parts = json.loads(data)
            variant, base, not_chat, scored, speed = (
                {int(i): str(v) for i, v in part} for part in parts
            )
        except (ValueError, TypeError) as exc:
            raise ValueError(f"corrupt name facts: {exc}") from None
        return cls(variant, base, not_chat, scored, speed)


SNAPSHOT = "model_names"
FORMAT = "n2"  # bumped when NameFacts gains a field or a rule changes (n2: speed, exp)


def name_facts(
    conn: Connection, table: "ModelTable", scored_ids: Collection[str] = ()
) -> NameFacts:
    """NameFacts of `table`, from the store when built at the table's version and for the
    same bundled quality ids (regexes and name matching over 10,000 names cost ~30 ms;
    a selection may take 50)."""
    version = table.version
    if version is not None:
        ids_digest = zlib.crc32("\n".join(sorted(scored_ids)).encode())
        version = f"{FORMAT}:{version}:{len(scored_ids)}:{ids_digest:08x}"
        data = load_snapshot(conn, SNAPSHOT, version)
        if data is not None:
            try:
                return NameFacts.decode(data)
            except ValueError:
                pass  # rebuilt below
    facts = NameFacts.of(table, scored_ids)
    if version is not None:
        save_snapshot(conn, SNAPSHOT, version, facts.encode())
    return facts


def version_groups(model_ids: Sequence[tuple[str, str, str]]) -> dict[str, str]:
    """For (id, provider, name) triples: each left-out version's id -> the id of the row
    that stands for its model (the alias if listed, else the latest version), as
    selection groups candidates."""
    present = {model_id for model_id, _, _ in model_ids}
    groups: dict[str, list[str]] = {}
    for model_id, provider, name in model_ids:
        stem = base_name(name)
        if stem != name:
            groups.setdefault(f"{provider}/{stem}", []).append(model_id)
    rep_of: dict[str, str] = {}
    for group_id, members in groups.items():
        rep = group_id if group_id in present else max(members)
        rep_of.update((m, rep) for m in members if m != rep)
    return rep_of
