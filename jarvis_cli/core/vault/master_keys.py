"""Where a master key can live besides JARVIS_MASTER_KEY: the OS keyring or a key file.

Each store has two slots: `current` (the key in use) and `pending` (a new key
written by `rekey` before its transaction commits, promoted to `current` after
it). Keeping both lets every crash point leave a key that opens every row.

The OS keyring is used only when its backend is a real one: the fail and null
backends, anything from `keyrings.alt` (plaintext / "encrypted" files next to
the data they protect) and any backend `keyring` itself does not recommend
(priority < 1) are rejected. Every keyring call runs in a daemon thread with a
hard timeout, so a hung D-Bus or agent cannot hang jarvis.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

from jarvis_cli.core.errors import VaultError
from jarvis_cli.core.store.files import atomic_write, check_not_exposed, ensure_private_dir

Slot = Literal["current", "pending"]
StoreName = Literal["keyring", "file"]

MASTER_KEY_BYTES = 32
KEYRING_SERVICE = "jarvis"
KEYRING_TIMEOUT_S = 3.0

T = TypeVar("T")


def decode_master_key(text: str, where: str) -> bytes:
    """base64 of exactly 32 bytes, or a VaultError naming `where` (never the value)."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != MASTER_KEY_BYTES:
        raise VaultError(
            f"{where} is not a valid master key: expected base64 of {MASTER_KEY_BYTES} bytes",
            hint='generate one with: python -c "import base64,os;'
            'print(base64.b64encode(os.urandom(32)).decode())"',
        )
    return raw


def encode_master_key(key: bytes) -> str:
    return base64.b64encode(key).decode("ascii")


class MasterKeyStore(Protocol):
    """A place that holds master keys in two slots."""

    name: StoreName

    def describe(self, slot: Slot = "current") -> str: ...
    def read(self, slot: Slot) -> bytes | None: ...
    def write(self, slot: Slot, key: bytes) -> None: ...
    def delete(self, slot: Slot) -> None: ...


class KeyFileStore:
    """`master.key` (and `master.key.pending`) in the config dir, 0600, base64 text."""

    name: StoreName = "file"

    def __init__(self, path: Path) -> None:
        self.path = path

    def _path(self, slot: Slot) -> Path:
        return self.path if slot == "current" else self.path.with_name(self.path.name + ".pending")

    def describe(self, slot: Slot = "current") -> str:
        return f"key file {self._path(slot)}"

    def read(self, slot: Slot) -> bytes | None:
        path = self._path(slot)
        try:
            text = path.read_text(encoding="ascii")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise VaultError(f"cannot read master key file {path}: {exc}") from None
        # A key file others can read protects nothing: refuse it rather than use it.
        check_not_exposed(path, "master key file")
        return decode_master_key(text, f"master key file {path}")

    def write(self, slot: Slot, key: bytes) -> None:
        ensure_private_dir(self.path.parent)
        atomic_write(self._path(slot), (encode_master_key(key) + "\n").encode("ascii"))

    def delete(self, slot: Slot) -> None:
        self._path(slot).unlink(missing_ok=True)


class KeyringTimeoutError(Exception):
    """A keyring call did not answer within KEYRING_TIMEOUT_S."""


def call_with_timeout(fn: Callable[[], T], timeout_s: float = KEYRING_TIMEOUT_S) -> T:
    """Run `fn` in a daemon thread; give up (the thread is abandoned) after `timeout_s`."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target, name="jarvis-keyring", daemon=True)
    thread.start()
    thread.join(timeout_s)
    if thread.is_alive():
        raise KeyringTimeoutError(f"no answer within {timeout_s:g} s")
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


def backend_rejection(backend: Any) -> str | None:
    """Why `backend` is not a keyring jarvis trusts with a master key, or None if it is."""
    cls = type(backend)
    qualname = f"{cls.__module__}.{cls.__name__}"
    if cls.__module__.startswith("keyrings.alt"):
        return f"{qualname} stores secrets in a file (keyrings.alt)"
    if cls.__module__ in ("keyring.backends.fail", "keyring.backends.null"):
        return f"{qualname} cannot store secrets"
    try:
        priority = float(cls.priority)
    except Exception as exc:  # a backend that is not viable raises from `priority`
        return f"{qualname} is not usable ({type(exc).__name__})"
    if priority < 1:
        return f"{qualname} is not recommended by keyring (priority {priority:g})"
    return None


class KeyringStore:
    """The OS keyring, through the `keyring` package; every call has a hard timeout."""

    name: StoreName = "keyring"

    def __init__(self, backend: Any, account: str, backend_name: str) -> None:
        self._backend = backend
        self._account = account
        self.backend_name = backend_name

    def _username(self, slot: Slot) -> str:
        return self._account if slot == "current" else f"{self._account}:pending"

    def describe(self, slot: Slot = "current") -> str:
        return f"OS keyring ({self.backend_name}, {KEYRING_SERVICE}/{self._username(slot)})"

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        try:
            return call_with_timeout(fn)
        except KeyringTimeoutError:
            raise VaultError(
                f"the OS keyring did not answer within {KEYRING_TIMEOUT_S:g} s ({what})",
                hint="unlock the keyring or set JARVIS_MASTER_KEY",
            ) from None
        except VaultError:
            raise
        except Exception as exc:
            raise VaultError(
                f"the OS keyring failed ({what}): {type(exc).__name__}: {exc}",
                hint="unlock the keyring or set JARVIS_MASTER_KEY",
            ) from None

    def read(self, slot: Slot) -> bytes | None:
        username = self._username(slot)
        text = self._call("read", lambda: self._backend.get_password(KEYRING_SERVICE, username))
        if text is None:
            return None
        return decode_master_key(str(text), f"keyring entry {KEYRING_SERVICE}/{username}")

    def write(self, slot: Slot, key: bytes) -> None:
        username = self._username(slot)
        value = encode_master_key(key)
        self._call("write", lambda: self._backend.set_password(KEYRING_SERVICE, username, value))

    def delete(self, slot: Slot) -> None:
        username = self._username(slot)

        def delete() -> None:
            from keyring.errors import PasswordDeleteError

            with contextlib.suppress(PasswordDeleteError):  # already gone is fine
                self._backend.delete_password(KEYRING_SERVICE, username)

        self._call("delete", delete)


def probe_keyring(account: str) -> tuple[KeyringStore | None, str]:
    """The OS keyring if its backend is real and answers in time, else (None, why not)."""

    def probe() -> tuple[Any, str | None]:
        import keyring

        backend = keyring.get_keyring()
        rejection = backend_rejection(backend)
        if rejection is None:
            # A real round trip: a locked or broken keyring fails here, not mid-operation.
            backend.get_password(KEYRING_SERVICE, account)
        return backend, rejection

    try:
        backend, rejection = call_with_timeout(probe)
    except KeyringTimeoutError:
        return None, f"the OS keyring did not answer within {KEYRING_TIMEOUT_S:g} s"
    except Exception as exc:
        return None, f"the OS keyring failed: {type(exc).__name__}"
    if rejection is not None:
        return None, rejection
    cls = type(backend)
    return KeyringStore(backend, account, f"{cls.__module__}.{cls.__name__}"), "ok"


def keyring_account(config_dir: Path) -> str:
    """One keyring entry per jarvis config dir, so separate JARVIS_HOMEs never share a key."""
    return f"master-key:{os.path.abspath(config_dir)}"
