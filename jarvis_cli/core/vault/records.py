"""The records of the key vault: what `keys list/history/rekey` return, how a resolved
key travels (its value hidden from repr), and what a label may be."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from jarvis_cli.core.errors import UsageError
from jarvis_cli.core.vault.availability import DEFAULT_LABEL as DEFAULT_LABEL
from jarvis_cli.core.vault.availability import KeySource as KeySource

LABEL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
# valid: the provider accepted it at the last check; unverified: stored with
# --no-validate and never checked; rejected: the provider refused it at the last check.
KeyStatus = Literal["valid", "unverified", "rejected"]


@dataclass(frozen=True)
class ResolvedKey:
    provider: str
    value: str = field(repr=False)  # never printed
    source: KeySource
    env_var: str | None  # which variable, when source == "env"
    label: str | None  # vault label, when source == "vault"
    fingerprint: str


class KeyInfo(NamedTuple):
    """One key as `keys list` shows it (from the row's columns or the environment)."""

    provider: str
    label: str
    source: KeySource
    env_var: str | None
    fingerprint: str
    created: float | None
    updated: float | None
    last_used: float | None
    usage_count: int
    rotation_count: int
    status: str
    in_use: bool  # False for a vault key that an environment variable overrides
    key_id: str | None = None  # master key that sealed it


class KeyEvent(NamedTuple):
    provider: str
    label: str
    event: str  # added, replaced, rotated, deleted, validated, rekeyed
    at: float
    detail: str | None


class RekeyResult(NamedTuple):
    rekeyed: int
    old_key_id: str
    new_key_id: str
    source: str
    where: str


def check_label(label: str) -> str:
    from jarvis_cli.core.redact import secret_shaped

    # A key typed as the label is refused before it is stored or shown.
    if not LABEL_RE.match(label) or secret_shaped(label):
        raise UsageError(
            f"bad label {label!r}: use letters, digits, '.', '-' or '_' (at most 40, "
            "starting with a letter or digit)"
        )
    return label
