"""Credentials in HTTP headers (issue 27): sealed in the vault like base-URL passwords.

A provider's `secret_headers` (config.toml) names headers whose values live in the
vault as keys of that provider labelled `header.<name>` (lowercase); config.toml holds
only the names. `Authorization`, `Proxy-Authorization`, `api-key` and `x-api-key` are
credentials by name; any other header is one when the user marks it
(`providers add --secret-header NAME`). A credential header still in config.toml's
`headers` keeps working, is registered with `redact`, and is warned about once.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping

from jarvis_cli.core.redact import register_secret

CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "api-key", "x-api-key"})
LABEL_PREFIX = "header."


def is_credential(name: str) -> bool:
    """Whether a header of this name carries a credential whatever the user says."""
    return name.lower() in CREDENTIAL_HEADERS


def header_label(name: str) -> str:
    """The vault label of the sealed header `name` (`header.authorization`)."""
    return LABEL_PREFIX + name.lower()


def is_header_label(label: str) -> bool:
    """Whether a vault label holds a sealed header rather than an API key."""
    return label.startswith(LABEL_PREFIX)


_warned = False


def check_clear_headers(provider: str, headers: Mapping[str, str]) -> list[str]:
    """The credential headers of `provider` kept in clear; their values are registered as
    secrets so no output shows them."""
    found = []
    for name, value in headers.items():
        if is_credential(name):
            register_value(value)
            found.append(name)
    return found


def register_value(value: str) -> None:
    """Register a header's value with `redact`, and each long word of it: in
    "Bearer sk-…" the key alone is a secret too."""
    register_secret(value)
    for token in value.split():
        if len(token) >= 8:
            register_secret(token)


def warn_clear_headers(where: Iterable[tuple[str, str]]) -> None:
    """Once per process: config.toml holds credential headers (provider, header) in clear."""
    global _warned
    pairs = list(where)
    if _warned or not pairs:
        return
    _warned = True
    which = ", ".join(f"{h} of {p}" for p, h in pairs)
    provider, header = pairs[0]
    sys.stderr.write(
        f"warning: config.toml holds the credential header {which} in clear; it still works, "
        f"but seal it in the vault: `jarvis providers add {provider} --base-url URL "
        f"--secret-header {header}` (type the value at the prompt)\n"
    )
