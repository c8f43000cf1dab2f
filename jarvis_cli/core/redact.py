"""The one redaction function: secrets are scrubbed from anything shown to a user.

`redact` removes three kinds of secret:

1. values registered at runtime: every place that obtains a key value (vault
   open, env lookup, prompt) calls `register_secret`;
2. anything *shaped* like an API key, even if jarvis never saw it as one: a key
   pasted where a provider name goes must not be echoed back by an error message
   (see `secret_shaped`);
3. the password of a URL (`http://user:PASS@host` -> `http://user:***@host`).

The CLI's catch point passes every message and, with JARVIS_DEBUG=1, every
traceback through `redact`, so that even an upstream error that echoes the
Authorization header cannot print a key.
"""

from __future__ import annotations

import math
import re
from collections import Counter

_secrets: set[str] = set()
_MIN_SECRET_LEN = 6  # shorter values would redact ordinary words

REDACTED = "[REDACTED]"
MASK = "***"
SECRET_HINT = (
    "that looks like an API key: keys are read from a prompt or `--stdin`, never from arguments"
)

# The patterns below are strings, compiled by re's cache on first use (as in task
# inference and help text): most commands redact nothing, and compiling all six cost
# ~0.5 ms at every start. Callers test a cheap substring first where one is needed.

# Known key prefixes (OpenAI sk-/sk-proj-, Anthropic sk-ant-, Groq gsk_, Google AIza,
# xAI xai-) followed by at least 12 key characters: real keys carry 32 to 160, and the
# floor keeps fingerprints (`sk-…abcd`) and short names such as `sk-test` visible.
_PREFIXED = (
    r"(?<![A-Za-z0-9_])(?:sk-ant-|sk-proj-|sk-|gsk_|AIza|xai-)[A-Za-z0-9_-]{12,}(?![A-Za-z0-9_-])"
)
# A run of key characters (base64 and base64url included; not `.` or `:`, so hosts,
# URLs and versioned model ids split into their short parts).
_TOKEN = r"[A-Za-z0-9_+=/-]{20,}"
# One unbroken segment of a token (no `-`, `_` or `/`): identifiers made by people are
# short words joined by dashes (`gpt-4o-mini-2024-07-18`); generated tokens are not.
_SEGMENT = r"[A-Za-z0-9+=]+"
_MIN_SEGMENT = 20
_MIN_ENTROPY_BITS = 3.0  # per character; random base62 text scores about 4.5
_MIN_JOINED = 24
_MIN_LONGEST_PART = 10
_MIN_JOINED_ENTROPY_BITS = 3.5
_HEX = r"^[0-9a-fA-F]+$"
# scheme://user:password@ ; the password is everything up to the last `@` of the
# authority (passwords may contain `@` when people do not percent-encode them).
_URL_USERINFO = r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*):[^\s/]*@"


def register_secret(value: str) -> None:
    """Remember `value` as a secret for the rest of the process, with its obvious
    encodings (base64, base64url, percent-encoding), which an echo may use instead."""
    if len(value) < _MIN_SECRET_LEN:
        return
    import base64
    from urllib.parse import quote

    raw = value.encode()
    _secrets.add(value)
    _secrets.add(base64.b64encode(raw).decode("ascii").rstrip("="))
    _secrets.add(base64.urlsafe_b64encode(raw).decode("ascii").rstrip("="))
    _secrets.add(quote(value, safe=""))


def scrub_secrets(text: str) -> str:
    """`text` with every registered secret replaced, and nothing else changed: for
    provider answers, which are kept exact except for a key in use echoed back."""
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


class SecretScrubber:
    """`scrub_secrets` over a stream of text pieces: a secret split across pieces is
    still caught, by holding back a tail that could be the start of one."""

    def __init__(self) -> None:
        self._pending = ""

    def feed(self, piece: str) -> str:
        """The part of the text so far that is safe to show now."""
        text = scrub_secrets(self._pending + piece)
        hold = max((_prefix_overlap(text, s) for s in _secrets), default=0)
        self._pending = text[len(text) - hold :] if hold else ""
        return text[: len(text) - hold]

    def flush(self) -> str:
        """What was held back, at the end of the stream (no secret can complete now)."""
        rest, self._pending = self._pending, ""
        return rest


def _prefix_overlap(text: str, secret: str) -> int:
    """The length of the longest end of `text` that is a proper start of `secret`."""
    for n in range(min(len(text), len(secret) - 1), 0, -1):
        if secret.startswith(text[-n:]):
            return n
    return 0


def holds_registered_secret(text: str) -> bool:
    """Whether `text` contains a value registered with `register_secret` (a key in use)."""
    return any(secret in text for secret in _secrets)


def _entropy(text: str) -> float:
    counts = Counter(text)
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _high_entropy(segment: str) -> bool:
    """A long generated-looking segment: letters and digits mixed, not hex, not repetitive."""
    if len(segment) < _MIN_SEGMENT or re.match(_HEX, segment):
        return False
    has_digit = any(c.isdigit() for c in segment)
    has_alpha = any(c.isalpha() for c in segment)
    return has_digit and has_alpha and _entropy(segment) >= _MIN_ENTROPY_BITS


def _token_is_secret(token: str) -> bool:
    segments = re.findall(_SEGMENT, token)
    if any(_high_entropy(s) for s in segments):
        return True
    if _padded_base64(token):
        return True
    # base64url keys hold a few `-`/`_` by chance: judge the whole run when its parts are
    # long (a person's identifier is short words: `Llama-3-70B-Instruct`).
    body = "".join(segments)
    longest = max(segments, key=len)
    return (
        len(body) >= _MIN_JOINED
        and len(longest) >= _MIN_LONGEST_PART
        and not re.match(_HEX, longest)
        and any(c.isdigit() for c in longest)
        and any(c.isupper() for c in body)
        and any(c.islower() for c in body)
        and any(c.isdigit() for c in body)
        and _entropy(body) >= _MIN_JOINED_ENTROPY_BITS
    )


def _padded_base64(token: str) -> bool:
    """Padded base64 of 18+ bytes (a 32-byte key is 43 characters and `=`), mixing
    cases: its `/` can cut it into parts of which none holds a digit, which the part
    rules above miss (`test_redact.py` drew such a master key: 44 in 10,000 were missed).
    Paths and identifiers do not end in `=`."""
    body = token.rstrip("=")
    return (
        token.endswith("=")
        and len(token) % 4 == 0
        and len(body) >= _MIN_JOINED
        and len(token) - len(body) <= 2
        and "-" not in body
        and "_" not in body
        and any(c.isupper() for c in body)
        and any(c.islower() for c in body)
        # a 32-byte key has no digit once in ~1,400: long enough, its entropy decides
        and (len(body) >= 40 or any(c.isdigit() for c in body))
        and _entropy(body) >= _MIN_JOINED_ENTROPY_BITS
    )


def secret_shaped(text: str) -> list[str]:
    """The substrings of `text` that look like API keys or other generated secrets.

    A substring counts when it starts with a known key prefix (`sk-`, `sk-ant-`,
    `sk-proj-`, `gsk_`, `AIza`, `xai-`) and goes on for at least 12 key characters,
    or when it is a run of key characters holding one unbroken segment of 20 or more
    that mixes letters and digits, is not hexadecimal, and has an entropy of at least
    3 bits per character. Provider names, labels, model ids, paths, URLs, UUIDs and
    hex fingerprints do not match.
    """
    found, rest = [], text
    if _may_have_prefix(text):
        found = [m.group(0) for m in re.finditer(_PREFIXED, text)]
        rest = re.sub(_PREFIXED, " ", text)
    found += [m.group(0) for m in re.finditer(_TOKEN, rest) if _token_is_secret(m.group(0))]
    return found


def has_key_prefix(text: str) -> bool:
    """Whether `text` holds a key with a known prefix (`sk-…`, `gsk_…`, `AIza…`, `xai-…`)."""
    return _may_have_prefix(text) and re.search(_PREFIXED, text) is not None


def looks_like_secret(text: str) -> bool:
    """Whether `text` holds something shaped like a key (see `secret_shaped`)."""
    if secret_shaped(text):
        return True
    return "@" in text and "://" in text and re.search(_URL_USERINFO, text) is not None


def mask_url(url: str) -> str:
    """`url` with the password of its user info replaced: `http://user:***@host/v1`."""
    if "@" not in url or "://" not in url:  # the pattern needs both: spare compiling it
        return url
    return re.sub(_URL_USERINFO, lambda m: f"{m.group('head')}:{MASK}@", url)


# Credentials in a URL's query (Gemini's `?key=`, signed URLs), as error bodies echo them.
_QUERY_SECRET = (
    r"(?i)([?&;](?:key|api[_-]?key|access[_-]?token|token|secret|password|passwd|sig|"
    r"signature|auth)=)[^&;\s\"'#<>]+"
)


def _may_have_prefix(text: str) -> bool:
    """Whether `text` holds one of the key prefixes `prefixed` starts with (a substring
    test, so a text without one never compiles the pattern)."""
    return "sk-" in text or "gsk_" in text or "AIza" in text or "xai-" in text


def redact(text: str) -> str:
    """`text` without registered secrets, secret-shaped tokens, URL passwords or
    credential query parameters (`?key=…`)."""
    text = mask_url(scrub_secrets(text))
    if "=" in text:
        text = re.sub(_QUERY_SECRET, lambda m: m.group(1) + REDACTED, text)
    if _may_have_prefix(text):
        text = re.sub(_PREFIXED, REDACTED, text)
    return re.sub(_TOKEN, lambda m: REDACTED if _token_is_secret(m.group(0)) else m.group(0), text)


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
