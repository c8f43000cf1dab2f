"""A process-wide list of secret values, scrubbed from anything shown to a user.

Every place that obtains a key value (vault open, env lookup, prompt) registers
it here. The CLI's catch point passes every message and, with JARVIS_DEBUG=1,
every traceback through `redact`, so that even an upstream error that echoes the
Authorization header cannot print a key.
"""

from __future__ import annotations

_secrets: set[str] = set()
_MIN_SECRET_LEN = 6  # shorter values would redact ordinary words

REDACTED = "[REDACTED]"


def register_secret(value: str) -> None:
    """Remember `value` as a secret for the rest of the process."""
    if len(value) >= _MIN_SECRET_LEN:
        _secrets.add(value)


def redact(text: str) -> str:
    """Replace every registered secret in `text`, longest first."""
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def fingerprint(value: str) -> str:
    """A display form that identifies a key without revealing it: `sk-…abcd`."""
    value = value.strip()
    prefix = ""
    for sep in ("-", "_"):
        head, found, _ = value.partition(sep)
        if found and 0 < len(head) <= 4 and len(value) >= 16:
            prefix = head + sep
            break
    tail = value[-4:] if len(value) >= 12 else ""
    return f"{prefix}…{tail}"
