"""What an `openai` client is built with: its TLS context, and no work it does not need.

- Every client of a process shares one TLS context (what httpx builds for verify=True,
  trust_env=True). Building one reads the CA bundle (~25 ms); a batch makes a client per
  worker thread, and 128 contexts would cost seconds. Hence the lock: without it, the
  workers that start together all miss the cache and build their own.
- A plain-HTTP endpoint (a local server, the usual OpenAI-compatible box on a LAN) needs
  no CA bundle at all (issue 28: a single `complete` pays for nothing it does not use).
  Its client gets a context that still requires a verified certificate and hostname but
  trusts no CA: should the endpoint redirect to https, the handshake fails instead of
  going unverified. With a proxy configured in the environment (which may itself be
  https) the full context is used.
- The SDK names the OS in a diagnostic header, and to find it out `platform.platform()`
  runs `uname -p` in a subprocess at the first request. On Linux the answer is known.
- The SDK is imported, and a client and its first resource built, on a thread of
  their own (`on_fresh_stack`). CPython 3.11 keeps a thread's Python frames in 16 KB
  chunks and unmaps a chunk as soon as the frame at its start returns. Imported from
  deep inside a command (~20 frames of typer, click and jarvis), the SDK's
  ~900-module import tree kept stepping over a chunk's start: ~7,000 mmap/munmap
  pairs and their page faults, ~30-40 ms of CPU (issue 28, `strace -c`). A fresh
  thread's stack starts empty, as a script's module level does.
"""

from __future__ import annotations

import functools
import importlib
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

T = TypeVar("T")

_TLS_LOCK = threading.Lock()
_PROXY_VARS = ("https_proxy", "http_proxy", "all_proxy")


def load_sdk() -> None:
    """Import the `openai` SDK now, as building the first client would, on a fresh
    stack (see the module doc)."""
    if "openai" not in sys.modules:
        on_fresh_stack(lambda: importlib.import_module("openai"))


def on_fresh_stack(fn: Callable[[], T]) -> T:
    """`fn()` run on a new thread, whose stack starts empty (see the module doc): its
    result, or its exception raised here. For one-off work that imports a lot."""
    done: list[T] = []
    failed: list[BaseException] = []

    def run() -> None:
        try:
            done.append(fn())
        except BaseException as exc:  # handed to the caller below
            failed.append(exc)

    worker = threading.Thread(target=run, name="jarvis-fresh-stack", daemon=True)
    worker.start()
    worker.join()
    if failed:
        raise failed[0]
    return done[0]


def tls_context() -> Any:
    """The CA-verifying TLS context every client of this process shares."""
    with _TLS_LOCK:
        return _new_tls_context()


@functools.cache
def _new_tls_context() -> Any:
    import httpx2

    return httpx2.create_ssl_context()


@functools.cache
def _no_ca_context() -> Any:
    import ssl

    # PROTOCOL_TLS_CLIENT: CERT_REQUIRED and check_hostname are on; no CA is loaded.
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def context_for(url: str, env: Mapping[str, str]) -> Any:
    """The TLS context for a client whose base URL is `url` (see the module doc)."""
    proxied = any(env.get(v) or env.get(v.upper()) for v in _PROXY_VARS)
    if url.lower().startswith("http://") and not proxied:
        return _no_ca_context()
    return tls_context()


def skip_platform_probe(client: Any) -> None:
    """Tell the SDK the OS it would otherwise find out with a subprocess (Linux only)."""
    if sys.platform == "linux" and getattr(client, "_platform", "") is None:
        client._platform = "Linux"
