"""Which store to use, and its URL made safe to show.

The store is the local SQLite file unless `JARVIS_STORE_URL` or `[store] url` in
config.toml names a PostgreSQL database (`postgresql://user:password@host:port/db`).
A URL may hold a password, so it is only ever shown through `redact_url`: every
message, `doctor` and `--json` print the URL with the password replaced by `***`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from jarvis_cli.core.errors import ConfigError

STORE_URL_ENV = "JARVIS_STORE_URL"
SCHEMES = ("postgresql", "postgres")
_MASK = "***"


def check_store_url(url: str, where: str) -> str:
    """`url` if it is a PostgreSQL URL jarvis can use, else a ConfigError (exit 3)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ConfigError(f"{where}: not a valid store URL ({exc})") from None
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise ConfigError(
            f"{where}: expected a URL like postgresql://USER@HOST:PORT/DATABASE, "
            f"got {redact_url(url)!r}",
            hint="leave it unset to use the local SQLite store",
        )
    return url


def configured_url(env: Mapping[str, str], config_url: str | None) -> tuple[str, str] | None:
    """The PostgreSQL URL to use and where it came from, or None for the SQLite file."""
    from_env = env.get(STORE_URL_ENV, "")
    if from_env:
        return check_store_url(from_env, STORE_URL_ENV), STORE_URL_ENV
    if config_url:
        return check_store_url(config_url, "config.toml [store] url"), "config.toml [store] url"
    return None


def url_password(url: str) -> str | None:
    """The password a URL carries (userinfo or `password=` parameter), if any."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return None
    if password:
        return password
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name == "password" and value:
            return value
    return None


def redact_url(url: str) -> str:
    """`url` with its password (in the userinfo or a `password=` parameter) as ***."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return re.sub(r"//[^@/]*@", f"//{_MASK}@", url)
    netloc = parts.netloc
    if password is not None:
        user, _, host = netloc.rpartition("@")
        name = user.split(":", 1)[0]
        netloc = f"{name}:{_MASK}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(name == "password" for name, _ in pairs):
            query = urlencode([(n, _MASK if n == "password" else v) for n, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def scrub(text: str, url: str) -> str:
    """`text` (e.g. a driver's error message) without the URL's password or the URL."""
    password = url_password(url)
    text = text.replace(url, redact_url(url))
    if password:
        text = text.replace(password, _MASK)
    return text
